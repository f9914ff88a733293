using Microsoft.Extensions.Logging;
using OAuthSidecar.Core.Diagnostics;
using OAuthSidecar.Rpc.Contracts;
using StreamJsonRpc;

namespace OAuthSidecar.Rpc;

/// <summary>
/// Writes log records to stderr and, once the connection is up, to the caller as <c>window/logMessage</c>
/// (LSP). Every message passes through the <see cref="SecretRedactor"/> first. Never writes to stdout.
/// </summary>
internal sealed class RpcLoggerProvider : ILoggerProvider
{
    private readonly SecretRedactor redactor;
    private readonly LogLevel minimum;
    private readonly TextWriter stderr;
    private readonly Lock writeGate = new();
    private JsonRpc? rpc;

    public RpcLoggerProvider(SecretRedactor redactor, LogLevel minimum, TextWriter stderr)
    {
        this.redactor = redactor;
        this.minimum = minimum;
        this.stderr = stderr;
    }

    /// <summary>Starts sending <c>window/logMessage</c> notifications on <paramref name="connection"/>.</summary>
    /// <param name="connection">The JSON-RPC connection.</param>
    public void Attach(JsonRpc connection) => this.rpc = connection;

    public ILogger CreateLogger(string categoryName) => new RpcLogger(this, categoryName);

    public void Dispose() => this.rpc = null;

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

    private void Write(LogLevel level, string message)
    {
        string safe = this.redactor.Redact(message);
        lock (this.writeGate)
        {
            this.stderr.WriteLine($"[{DateTimeOffset.UtcNow:HH:mm:ss.fff}] {LevelName(level)} {safe}");
            this.stderr.Flush();
        }

        if (this.rpc is { IsDisposed: false } connection)
        {
            _ = SendAsync(connection, new LogMessageParams { Type = ToMessageType(level), Message = safe });
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

            owner.Write(logLevel, message);
        }
    }
}
