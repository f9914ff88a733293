using System.Buffers;
using System.Text.Json;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;

namespace OAuthSidecar.Rpc;

/// <summary>
/// The requests read from stdin that still wait for their answer, and what happens to them at the end of input:
/// every one of them is answered before the connection ends. A request still running <see cref="Grace"/> after the
/// end of input is cancelled exactly as if the caller had sent <c>$/cancelRequest</c> (it is answered with -32800);
/// one that ignores the cancellation is given <see cref="Grace"/> once more, then the connection ends anyway.
/// </summary>
/// <param name="formatter">Builds the <c>$/cancelRequest</c> messages the way wire messages are built.</param>
/// <param name="timeProvider">The clock of the grace period.</param>
/// <param name="grace">How long requests may run on after the end of input before they are cancelled.</param>
internal sealed class InboundRequests(IJsonRpcMessageFormatter formatter, TimeProvider timeProvider, TimeSpan grace)
{
    /// <summary>The default <see cref="Grace"/>: short, so a parent that went away leaves no process behind.</summary>
    public static readonly TimeSpan DefaultGrace = TimeSpan.FromMilliseconds(500);

    private readonly Lock gate = new();
    private readonly HashSet<RequestId> waiting = [];
    private readonly List<RequestId> written = [];
    private TaskCompletionSource? allAnswered;
    private Queue<RequestId>? toCancel;

    /// <summary>Gets how long requests may run on after the end of input before they are cancelled.</summary>
    public TimeSpan Grace => grace;

    /// <summary>Notes a message read from stdin: a request (not a notification) now waits for its answer.</summary>
    /// <param name="message">The message about to be dispatched.</param>
    public void Received(JsonRpcMessage message)
    {
        if (message is JsonRpcRequest { IsResponseExpected: true } request)
        {
            lock (this.gate)
            {
                this.waiting.Add(request.RequestId);
            }
        }
    }

    /// <summary>Notes a message about to be written: a result or an error answers its request once it is flushed.</summary>
    /// <param name="message">The outgoing message.</param>
    public void Writing(JsonRpcMessage message)
    {
        if (message is JsonRpcResult or JsonRpcError && message is IJsonRpcMessageWithId { RequestId: { IsEmpty: false } id })
        {
            lock (this.gate)
            {
                this.written.Add(id);
            }
        }
    }

    /// <summary>Notes that everything written so far reached stdout.</summary>
    public void Flushed()
    {
        lock (this.gate)
        {
            foreach (RequestId id in this.written)
            {
                this.waiting.Remove(id);
            }

            this.written.Clear();
            if (this.waiting.Count == 0)
            {
                this.allAnswered?.TrySetResult();
            }
        }
    }

    /// <summary>
    /// At the end of input, the next message for the connection to handle: a <c>$/cancelRequest</c> for a request
    /// that outlived the grace period, or <see langword="null"/> once every request has its answer (the connection
    /// then ends).
    /// </summary>
    /// <param name="cancellationToken">Ends the wait (the connection is being disposed).</param>
    /// <returns>The message, or <see langword="null"/> for the end.</returns>
    public async ValueTask<JsonRpcMessage?> NextAfterEndOfInputAsync(CancellationToken cancellationToken)
    {
        if (this.toCancel is null)
        {
            bool answered = await this.WaitForAnswersAsync(cancellationToken).ConfigureAwait(false);
            lock (this.gate)
            {
                this.toCancel = answered ? new Queue<RequestId>() : new Queue<RequestId>(this.waiting);
            }

            if (this.toCancel.Count > 0)
            {
                return this.CancelRequest(this.toCancel.Dequeue());
            }
        }
        else if (this.toCancel.TryDequeue(out RequestId id))
        {
            return this.CancelRequest(id);
        }
        else
        {
            await this.WaitForAnswersAsync(cancellationToken).ConfigureAwait(false);
        }

        return null;
    }

    /// <summary>Waits until every request has its answer, for at most the grace period.</summary>
    private async Task<bool> WaitForAnswersAsync(CancellationToken cancellationToken)
    {
        Task answered;
        lock (this.gate)
        {
            if (this.waiting.Count == 0)
            {
                return true;
            }

            this.allAnswered ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            answered = this.allAnswered.Task;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task delay = Task.Delay(grace, timeProvider, timeout.Token);
        Task first = await Task.WhenAny(answered, delay).ConfigureAwait(false);
        await timeout.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return first == answered;
    }

    /// <summary>A <c>$/cancelRequest</c> notification for <paramref name="id"/>, parsed by the formatter as if it came from stdin.</summary>
    private JsonRpcMessage CancelRequest(RequestId id)
    {
        var buffer = new ArrayBufferWriter<byte>(96);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("jsonrpc", "2.0");
            json.WriteString("method", "$/cancelRequest");
            json.WriteStartObject("params");
            if (id.Number is long number)
            {
                json.WriteNumber("id", number);
            }
            else
            {
                json.WriteString("id", id.String);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return formatter.Deserialize(new ReadOnlySequence<byte>(buffer.WrittenMemory));
    }
}
