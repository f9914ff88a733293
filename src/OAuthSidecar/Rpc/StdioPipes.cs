using System.IO.Pipelines;

namespace OAuthSidecar.Rpc;

/// <summary>
/// Turns stdin and stdout into pipes without a thread-pool hop per read or write. The console streams have no
/// asynchronous I/O on Unix: <see cref="Stream.ReadAsync(Memory{byte}, CancellationToken)"/> on them parks a pool
/// thread in a blocking <c>read(2)</c> and hops back, and a write hops the same way. Here one dedicated thread
/// blocks on stdin and hands each chunk to the message handler on that same thread, and writes go to stdout
/// synchronously from the flushing thread (a pipe write returns at once unless the parent stops reading, and
/// then the writer waits, as it would anyway).
/// </summary>
internal static class StdioPipes
{
    /// <summary>The size of one read from stdin, in bytes.</summary>
    private const int ReadSize = 64 * 1024;

    /// <summary>
    /// Starts a background thread that copies <paramref name="input"/> into a pipe until the end of the stream or
    /// an I/O error (both end the pipe: the caller sees the end of input). The reader's continuations run on that
    /// thread, so a message is parsed where it was read.
    /// </summary>
    /// <param name="input">stdin (any readable stream).</param>
    /// <param name="maxMessageBytes">The largest message the handler accepts, in bytes: the pipe holds at least that
    /// much unread before it stops reading stdin (back-pressure on a parent that floods us).</param>
    /// <returns>The pipe's reader.</returns>
    public static PipeReader StartReader(Stream input, long maxMessageBytes)
    {
        long pause = Math.Max(maxMessageBytes, 0) + (2 * ReadSize);
        var pipe = new Pipe(new PipeOptions(
            readerScheduler: PipeScheduler.Inline,
            writerScheduler: PipeScheduler.Inline,
            pauseWriterThreshold: pause,
            resumeWriterThreshold: pause / 2,
            useSynchronizationContext: false));
        var thread = new Thread(() => Pump(input, pipe.Writer))
        {
            IsBackground = true,
            Name = "stdin reader",
        };
        thread.Start();
        return pipe.Reader;
    }

    /// <summary>
    /// Opens stdout for the protocol. On Unix this is a plain file stream over descriptor 1, not the console stream:
    /// .NET's console streams take one lock (on <see cref="Console.Out"/>) around every write to stdout and stderr, so
    /// a parent that stops reading stderr would stall the protocol on stdout too.
    /// </summary>
    /// <returns>The stream.</returns>
    public static Stream OpenStandardOutput() => OpenDescriptor(1) ?? Console.OpenStandardOutput();

    /// <summary>Opens stderr for diagnostics, without the console lock on Unix (see <see cref="OpenStandardOutput"/>).</summary>
    /// <returns>A UTF-8 writer that flushes every line.</returns>
    public static TextWriter OpenStandardError() =>
        OpenDescriptor(2) is { } stream
            ? new StreamWriter(stream, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false)) { AutoFlush = true }
            : Console.Error;

    /// <summary>Returns a pipe writer whose flush writes to <paramref name="output"/> synchronously, on the flushing thread.</summary>
    /// <param name="output">stdout (any writable stream).</param>
    /// <returns>The writer.</returns>
    public static PipeWriter CreateWriter(Stream output) =>
        PipeWriter.Create(new SynchronousWriteStream(output), new StreamPipeWriterOptions(minimumBufferSize: 16 * 1024, leaveOpen: true));

    private static FileStream? OpenDescriptor(int descriptor)
    {
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        try
        {
            return new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(descriptor, ownsHandle: false), FileAccess.Write, bufferSize: 0);
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return null; // closed or not writable: fall back to the console stream
        }
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "VSTHRD002:Avoid problematic synchronous waits", Justification = "A dedicated thread: with the inline scheduler the flush completes synchronously, and blocking here blocks nobody else.")]
    private static void Pump(Stream input, PipeWriter writer)
    {
        Exception? failure = null;
        try
        {
            while (true)
            {
                Memory<byte> memory = writer.GetMemory(ReadSize);
                int read = input.Read(memory.Span);
                if (read == 0)
                {
                    break;
                }

                writer.Advance(read);
                ValueTask<FlushResult> flush = writer.FlushAsync();
                FlushResult result = flush.IsCompleted ? flush.Result : flush.AsTask().GetAwaiter().GetResult();
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (IOException ex)
        {
            failure = ex;
        }
        catch (ObjectDisposedException)
        {
        }
        catch (InvalidOperationException)
        {
            // The reader side was completed (the connection is shutting down).
        }

        writer.Complete(failure);
    }

    /// <summary>A write-only stream whose asynchronous writes are synchronous writes to the inner stream.</summary>
    private sealed class SynchronousWriteStream(Stream inner) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            inner.Flush();
            return Task.CompletedTask;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            inner.Write(buffer.Span);
            return default;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            inner.Write(buffer, offset, count);
            return Task.CompletedTask;
        }
    }
}
