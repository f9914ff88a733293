using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using OAuthSidecar.Rpc.Contracts;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;
using StreamJsonRpc.Reflection;

namespace OAuthSidecar.Rpc;

/// <summary>
/// Reads and writes framed JSON-RPC messages on stdio. Unlike StreamJsonRpc's own handlers, which drop the
/// connection on a message they cannot parse (vs-streamjsonrpc #133), this one answers a bad frame with -32700
/// (not JSON) or -32600 (JSON but not a request, or larger than the limit) and goes on reading: the frame
/// boundary is known from <c>Content-Length</c> or the newline. At the end of input it keeps the connection open until
/// every request it read has its answer (<see cref="InboundRequests"/>).
/// </summary>
internal sealed class StdioMessageHandler : MessageHandlerBase
{
    private static readonly byte[] HeaderTerminator = "\r\n\r\n"u8.ToArray();

    private readonly PipeReader reader;
    private readonly PipeWriter writer;
    private readonly Framing framing;
    private readonly long maxMessageBytes;
    private readonly ArrayBufferWriter<byte> body = new(4096);
    private readonly JsonRpcSessionGuard guard;

    // The method of every request read and not yet answered, by id: StreamJsonRpc's own -32601 answer does not
    // carry the method, and the answer is rewritten to name it (ErrorMapping.RewriteTransportError).
    private readonly ConcurrentDictionary<RequestId, string> unanswered = new();
    private readonly InboundRequests inbound;
    private bool endOfInput;
    private long bytesToSkip;
    private bool discardingLine;

    public StdioMessageHandler(PipeReader reader, PipeWriter writer, IJsonRpcMessageFormatter formatter, Framing framing, long maxMessageBytes, JsonRpcSessionGuard? guard = null, TimeProvider? timeProvider = null, TimeSpan? endOfInputGrace = null)
        : base(formatter)
    {
        this.guard = guard ?? new JsonRpcSessionGuard(static _ => { });
        this.reader = reader;
        this.writer = writer;
        this.framing = framing;
        this.maxMessageBytes = maxMessageBytes;
        this.inbound = new InboundRequests(formatter, timeProvider ?? TimeProvider.System, endOfInputGrace ?? InboundRequests.DefaultGrace);
    }

    /// <summary>Gets the session rules applied to every message (stray responses, duplicate ids, after shutdown).</summary>
    public JsonRpcSessionGuard Guard => this.guard;

    /// <summary>Gets the number of frames answered with an error instead of being dispatched.</summary>
    public int RejectedFrames { get; private set; }

    public override bool CanRead => true;

    public override bool CanWrite => true;

    protected override async ValueTask<JsonRpcMessage?> ReadCoreAsync(CancellationToken cancellationToken)
    {
        while (!this.endOfInput)
        {
            ReadResult read = await this.reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = read.Buffer;

            if (this.bytesToSkip > 0)
            {
                long skip = Math.Min(this.bytesToSkip, buffer.Length);
                this.bytesToSkip -= skip;
                this.reader.AdvanceTo(buffer.GetPosition(skip));
                if (read.IsCompleted && this.bytesToSkip > 0)
                {
                    this.endOfInput = true;
                    break;
                }

                continue;
            }

            (FrameStatus status, SequencePosition consumed, JsonRpcError? error, JsonRpcMessage? message) = this.framing == Framing.Lsp
                ? this.TryReadLspFrame(buffer, read.IsCompleted)
                : this.TryReadLine(buffer, read.IsCompleted);

            switch (status)
            {
                case FrameStatus.NeedMore:
                    this.reader.AdvanceTo(buffer.Start, buffer.End);
                    continue;
                case FrameStatus.EndOfStream:
                    this.reader.AdvanceTo(buffer.End);
                    this.endOfInput = true;
                    continue;
            }

            this.reader.AdvanceTo(consumed);
            if (error is not null)
            {
                this.RejectedFrames++;
                await this.WriteAsync(error, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (message is not null)
            {
                (bool deliver, JsonRpcError? refusal) = this.guard.OnReceived(message, (code, text, id) => this.Error(code, text, id));
                if (refusal is not null)
                {
                    this.RejectedFrames++;
                    await this.WriteAsync(refusal, cancellationToken).ConfigureAwait(false);
                }
                else if (deliver)
                {
                    if (message is JsonRpcRequest { IsResponseExpected: true, Method: { } method } request)
                    {
                        this.unanswered[request.RequestId] = method;
                    }

                    this.inbound.Received(message);
                    return message;
                }
            }
        }

        return await this.inbound.NextAfterEndOfInputAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override ValueTask WriteCoreAsync(JsonRpcMessage content, CancellationToken cancellationToken)
    {
        bool ownRefusal = this.guard.OnSent(content);
        switch (content)
        {
            case JsonRpcError when ownRefusal:
                break; // a refusal of a duplicate id: the original request is still unanswered
            case JsonRpcError error:
                this.unanswered.TryRemove(error.RequestId, out string? method);
                ErrorMapping.RewriteTransportError(error, method);
                break;
            case JsonRpcResult result:
                this.unanswered.TryRemove(result.RequestId, out _);
                break;
        }

        this.inbound.Writing(content);
        this.body.ResetWrittenCount();
        this.Formatter.Serialize(this.body, content);
        if (this.framing == Framing.Lsp)
        {
            Span<byte> header = this.writer.GetSpan(64);
            "Content-Length: "u8.CopyTo(header);
            int length = 16;
            Utf8Formatter.TryFormat(this.body.WrittenCount, header[length..], out int digits);
            length += digits;
            "\r\n\r\n"u8.CopyTo(header[length..]);
            this.writer.Advance(length + 4);
            this.writer.Write(this.body.WrittenSpan);
        }
        else
        {
            this.writer.Write(this.body.WrittenSpan);
            this.writer.Write("\n"u8);
        }

        return default;
    }

    protected override async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        await this.writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        this.inbound.Flushed();
    }

    protected override void DisposeReader()
    {
        this.reader.Complete();
        base.DisposeReader();
    }

    protected override void DisposeWriter()
    {
        this.writer.Complete();
        base.DisposeWriter();
    }

    private (FrameStatus Status, SequencePosition Consumed, JsonRpcError? Error, JsonRpcMessage? Message) TryReadLspFrame(ReadOnlySequence<byte> buffer, bool completed)
    {
        var sequence = new SequenceReader<byte>(buffer);
        if (!sequence.TryReadTo(out ReadOnlySequence<byte> header, HeaderTerminator, advancePastDelimiter: true))
        {
            if (completed)
            {
                return FrameSyntax.IsWhiteSpace(buffer)
                    ? (FrameStatus.EndOfStream, buffer.End, null, null)
                    : (FrameStatus.Frame, buffer.End, this.Error(ErrorCodes.ParseError, "The input ended inside a message header.", null), null);
            }

            if (buffer.Length > FrameSyntax.MaxHeaderBytes)
            {
                return (FrameStatus.Frame, buffer.End, this.Error(ErrorCodes.ParseError, "A message header is longer than 8 KiB without its blank line: expected 'Content-Length: N' then \\r\\n\\r\\n. The bytes were discarded.", null), null);
            }

            return (FrameStatus.NeedMore, default, null, null);
        }

        if (!FrameSyntax.TryParseContentLength(header, out long length))
        {
            return (FrameStatus.Frame, sequence.Position, this.Error(ErrorCodes.ParseError, "The message header has no valid Content-Length (LSP base protocol: 'Content-Length: N' then \\r\\n\\r\\n).", null), null);
        }

        if (length > this.maxMessageBytes)
        {
            this.bytesToSkip = length;
            return (FrameStatus.Frame, sequence.Position, this.Error(ErrorCodes.InvalidRequest, $"The message is {length} bytes long; the limit is {this.maxMessageBytes} bytes. It was skipped.", null), null);
        }

        if (sequence.Remaining < length)
        {
            return completed
                ? (FrameStatus.Frame, buffer.End, this.Error(ErrorCodes.ParseError, $"The input ended {length - sequence.Remaining} bytes short of the Content-Length.", null), null)
                : (FrameStatus.NeedMore, default, null, null);
        }

        ReadOnlySequence<byte> payload = buffer.Slice(sequence.Position, length);
        (JsonRpcMessage? message, JsonRpcError? error) = this.Deserialize(payload);
        return (FrameStatus.Frame, payload.End, error, message);
    }

    private (FrameStatus Status, SequencePosition Consumed, JsonRpcError? Error, JsonRpcMessage? Message) TryReadLine(ReadOnlySequence<byte> buffer, bool completed)
    {
        SequencePosition? newline = buffer.PositionOf((byte)'\n');
        ReadOnlySequence<byte> line;
        SequencePosition consumed;
        if (newline is { } position)
        {
            line = buffer.Slice(0, position);
            consumed = buffer.GetPosition(1, position);
        }
        else if (completed)
        {
            if (this.discardingLine || FrameSyntax.IsWhiteSpace(buffer))
            {
                return (FrameStatus.EndOfStream, buffer.End, null, null);
            }

            line = buffer;
            consumed = buffer.End;
        }
        else
        {
            if (buffer.Length > this.maxMessageBytes)
            {
                bool first = !this.discardingLine;
                this.discardingLine = true;
                return (FrameStatus.Frame, buffer.End, first ? this.Error(ErrorCodes.InvalidRequest, $"A line is longer than the limit of {this.maxMessageBytes} bytes; it is skipped up to its end.", null) : null, null);
            }

            return (FrameStatus.NeedMore, default, null, null);
        }

        if (this.discardingLine)
        {
            this.discardingLine = false;
            return (FrameStatus.Frame, consumed, null, null);
        }

        if (line.Length > this.maxMessageBytes)
        {
            return (FrameStatus.Frame, consumed, this.Error(ErrorCodes.InvalidRequest, $"A line is {line.Length} bytes long; the limit is {this.maxMessageBytes} bytes.", null), null);
        }

        if (FrameSyntax.IsWhiteSpace(line))
        {
            return (FrameStatus.Frame, consumed, null, null);
        }

        (JsonRpcMessage? message, JsonRpcError? error) = this.Deserialize(line);
        return (FrameStatus.Frame, consumed, error, message);
    }

    private (JsonRpcMessage? Message, JsonRpcError? Error) Deserialize(ReadOnlySequence<byte> payload)
    {
        // The formatter keeps referring to the bytes it parsed, so it gets a copy that outlives the pipe's buffer.
        byte[] copy = payload.ToArray();
        if (JsonRpcSessionGuard.VersionProblem(copy) is { } problem)
        {
            return (null, this.Error(ErrorCodes.InvalidRequest, problem, FrameSyntax.IdOf(copy)));
        }

        try
        {
            return (this.Formatter.Deserialize(new ReadOnlySequence<byte>(copy)), null);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or ArgumentException or NotSupportedException or DecoderFallbackException or KeyNotFoundException or IndexOutOfRangeException)
        {
            return (null, this.Classify(copy));
        }
    }

    private JsonRpcError Classify(byte[] payload)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(payload, new JsonDocumentOptions { MaxDepth = 256 });
            JsonElement root = document.RootElement;
            RequestId id = FrameSyntax.IdOf(root);

            string message = root.ValueKind switch
            {
                JsonValueKind.Array => "Batch requests are not supported: send one JSON-RPC message per frame.",
                JsonValueKind.Object => "The message is not a valid JSON-RPC 2.0 request, notification or response (it needs \"jsonrpc\": \"2.0\", a string \"method\" and object or array \"params\").",
                _ => "A JSON-RPC message must be a JSON object.",
            };
            return this.Error(ErrorCodes.InvalidRequest, message, id);
        }
        catch (JsonException ex)
        {
            return this.Error(ErrorCodes.ParseError, $"The message is not valid JSON ({ex.Message.Split(" Path:")[0]}). It was skipped; the sidecar keeps serving.", null);
        }
    }

    private JsonRpcError Error(int code, string message, RequestId? id)
    {
        JsonRpcError error = ((IJsonRpcMessageFactory)this.Formatter).CreateErrorMessage();
        error.RequestId = id ?? RequestId.Null;
        error.Error = new JsonRpcError.ErrorDetail { Code = (JsonRpcErrorCode)code, Message = message };
        return error;
    }

    private enum FrameStatus
    {
        NeedMore,
        Frame,
        EndOfStream,
    }
}
