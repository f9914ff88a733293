using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using OAuthSidecar.Core.Diagnostics;
using OAuthSidecar.Rpc.Contracts;
using StreamJsonRpc;

namespace OAuthSidecar.Rpc;

/// <summary>
/// Writes log records to stderr and, once the connection is up, to the caller as <c>window/logMessage</c>
/// (LSP). Every message passes through the <see cref="SecretRedactor"/> first. Never writes to stdout.
/// </summary>
/// <remarks>
/// Neither the protocol nor the loopback listener ever waits for stderr: lines go through a bounded queue
/// (<see cref="QueueCapacity"/>) that a background task writes out; when a parent does not read stderr and the queue
/// is full, lines are dropped and counted, and the count is written once stderr moves again. A warning repeated
/// within <see cref="RepeatWindow"/> (the same text but for its numbers) is written once; the next one after the
/// window says how many were suppressed (so a flood of hostile connections costs one line, not hundreds).
/// </remarks>
internal sealed class RpcLoggerProvider : ILoggerProvider
{
    /// <summary>How many lines wait for stderr at most.</summary>
    public const int QueueCapacity = 1024;

    /// <summary>How long an identical warning template stays quiet after it was written.</summary>
    public static readonly TimeSpan RepeatWindow = TimeSpan.FromSeconds(10);

    private readonly SecretRedactor redactor;
    private readonly LogLevel minimum;
    private readonly TextWriter stderr;
    private readonly Channel<string> lines = Channel.CreateBounded<string>(new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly ConcurrentDictionary<string, Repeat> repeats = new(StringComparer.Ordinal);
    private readonly Thread writer;
    private long dropped;
    private JsonRpc? rpc;

    public RpcLoggerProvider(SecretRedactor redactor, LogLevel minimum, TextWriter stderr)
    {
        this.redactor = redactor;
        this.minimum = minimum;
        this.stderr = stderr;
        // A thread of its own: a write to a stderr nobody reads blocks it, and nothing else.
        this.writer = new Thread(this.Drain) { IsBackground = true, Name = "stderr writer" };
        this.writer.Start();
    }

    /// <summary>Gets the number of lines dropped because stderr was not read.</summary>
    public long DroppedLines => Interlocked.Read(ref this.dropped);

    /// <summary>Gets the number of warnings suppressed as repeats.</summary>
    public long SuppressedRepeats => this.repeats.Values.Sum(r => r.Total);

    /// <summary>Starts sending <c>window/logMessage</c> notifications on <paramref name="connection"/>.</summary>
    /// <param name="connection">The JSON-RPC connection.</param>
    public void Attach(JsonRpc connection) => this.rpc = connection;

    public ILogger CreateLogger(string categoryName) => new RpcLogger(this, categoryName);

    /// <summary>Stops notifying the caller and writes out what is queued (waiting at most 1 s for a stuck stderr).</summary>
    public void Dispose()
    {
        this.rpc = null;
        if (this.lines.Writer.TryComplete())
        {
            this.writer.Join(TimeSpan.FromSeconds(1));
        }
    }

    private static int ToMessageType(LogLevel level) => level switch
    {
        LogLevel.Critical or LogLevel.Error => 1,
        LogLevel.Warning => 2,
        LogLevel.Information => 3,
        _ => 4,
    };

    private bool IsEnabled(string category, LogLevel level)
    {
        if (level == LogLevel.None || level < this.minimum)
        {
            return false;
        }

        // Kestrel and the framework speak at Warning and above only.
        return !category.StartsWith("Microsoft.", StringComparison.Ordinal) || level >= LogLevel.Warning;
    }

    private void Write(LogLevel level, string message, string template)
    {
        long earlier = 0;
        if (level >= LogLevel.Warning && this.Suppressed(template, out earlier))
        {
            return;
        }

        // Redacted, and with control characters escaped: a server-chosen string (a user code with a newline or an
        // ANSI/OSC sequence) must not forge log lines or drive the terminal that shows stderr.
        string safe = SecretRedactor.EscapeControl(this.redactor.Redact(message));
        if (earlier > 0)
        {
            safe += $" ({earlier} more like this were not logged in the last {RepeatWindow.TotalSeconds:0} s)";
        }

        if (!this.lines.Writer.TryWrite($"[{DateTimeOffset.UtcNow:HH:mm:ss.fff}] {LevelName(level)} {safe}"))
        {
            Interlocked.Increment(ref this.dropped);
        }

        if (this.rpc is { IsDisposed: false } connection)
        {
            _ = SendAsync(connection, new LogMessageParams { Type = ToMessageType(level), Message = safe });
        }
    }

    // True when this warning template was written less than RepeatWindow ago; otherwise takes the count to report.
    private bool Suppressed(string template, out long earlier)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        Repeat repeat = this.repeats.GetOrAdd(template, _ => new Repeat());
        lock (repeat)
        {
            if (repeat.LastWritten is { } last && now - last < RepeatWindow)
            {
                repeat.Pending++;
                repeat.Total++;
                earlier = 0;
                return true;
            }

            earlier = repeat.Pending;
            repeat.Pending = 0;
            repeat.LastWritten = now;
            return false;
        }
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "VSTHRD002:Avoid problematic synchronous waits", Justification = "The stderr writer's own thread: blocking here blocks nobody else.")]
    private void Drain()
    {
        long reported = 0;
        try
        {
            while (this.lines.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            {
                while (this.lines.Reader.TryRead(out string? line))
                {
                    long lost = Interlocked.Read(ref this.dropped);
                    if (lost > reported)
                    {
                        this.stderr.WriteLine($"[{DateTimeOffset.UtcNow:HH:mm:ss.fff}] warn {lost - reported} log line(s) were dropped because stderr was not being read.");
                        reported = lost;
                    }

                    this.stderr.WriteLine(line);
                }

                this.stderr.Flush();
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // stderr is gone: the caller still gets window/logMessage.
        }
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Critical => "crit",
        LogLevel.Error => "error",
        LogLevel.Warning => "warn",
        LogLevel.Information => "info",
        LogLevel.Debug => "debug",
        _ => "trace",
    };

    private static async Task SendAsync(JsonRpc connection, LogMessageParams parameters)
    {
        try
        {
            IReadOnlyDictionary<string, object?> arguments = RpcArguments.From(parameters);
            await connection.NotifyWithParameterObjectAsync(ServerMessages.LogMessage.Name, arguments, RpcArguments.TypesOf(arguments)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ConnectionLostException or ObjectDisposedException or IOException or OperationCanceledException)
        {
            // The caller is gone; stderr has the message.
        }
    }

    private sealed class RpcLogger(RpcLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => owner.IsEnabled(category, logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!this.IsEnabled(logLevel))
            {
                return;
            }

            string message = formatter(state, exception);
            if (exception is not null && logLevel >= LogLevel.Error)
            {
                message += " " + exception.Message;
            }

            owner.Write(logLevel, message, logLevel >= LogLevel.Warning ? RepeatKey(category, message) : string.Empty);
        }
    }

    // Warnings that differ only in numbers (ports, connection ids, counts) are "identical" for rate limiting.
    private static string RepeatKey(string category, string message)
    {
        var key = new System.Text.StringBuilder(category.Length + message.Length + 1).Append(category).Append('|');
        bool inNumber = false;
        foreach (char c in message.Length > 512 ? message[..512] : message)
        {
            if (char.IsAsciiDigit(c))
            {
                if (!inNumber)
                {
                    key.Append('#');
                }

                inNumber = true;
                continue;
            }

            inNumber = false;
            key.Append(c);
        }

        return key.ToString();
    }

    private sealed class Repeat
    {
        public DateTimeOffset? LastWritten { get; set; }

        public long Pending { get; set; }

        public long Total { get; set; }
    }
}
