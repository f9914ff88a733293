using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using OAuthSidecar.Core;
using OAuthSidecar.Core.Browser;
using OAuthSidecar.Core.Credentials;
using OAuthSidecar.Core.Diagnostics;
using OAuthSidecar.Core.OAuth;
using OAuthSidecar.Rpc;
using OAuthSidecar.Rpc.Contracts;

namespace OAuthSidecar.Cli;

/// <summary>What <c>oauth-sidecar token</c> was asked for.</summary>
/// <param name="Issuer">The issuer (discovery).</param>
/// <param name="ClientId">The client id.</param>
/// <param name="Scopes">The scopes (empty: <see cref="TokenCommand.DefaultScopes"/>).</param>
/// <param name="Interactive">How the user may be reached.</param>
/// <param name="Storage">The store, or <see langword="null"/> for the keyring where it can be reached, else files.</param>
/// <param name="Account">The account, or <see langword="null"/> for the most recently used one.</param>
/// <param name="TimeoutSeconds">How long a sign-in may take, in seconds.</param>
/// <param name="Json">Whether to print the whole result as JSON instead of the access token alone.</param>
/// <param name="ClientSecretFile">A file whose first line is the client secret (<c>-</c>: stdin), or <see langword="null"/>: <see cref="TokenCommand.ClientSecretVariable"/>, else a public client.</param>
internal sealed record TokenArguments(string Issuer, string ClientId, IReadOnlyList<string> Scopes, InteractionMode Interactive, StorageBackend? Storage, string? Account, double TimeoutSeconds, bool Json, string? ClientSecretFile = null);

/// <summary>Where <c>oauth-sidecar token</c> reads, writes and looks.</summary>
/// <param name="Stdout">Where the token (or the JSON result) goes: nothing else is written there.</param>
/// <param name="Stderr">Where the address, the user code, questions and failures go.</param>
/// <param name="Stdin">Where a pasted redirect address is read.</param>
/// <param name="StdinIsTerminal">Whether stdin is a terminal (pasting needs one).</param>
/// <param name="Environment">Where this runs (browser or not).</param>
/// <param name="Engine">Engine settings other than logging and events (a data directory, a stub HTTP handler in tests), or <see langword="null"/>.</param>
internal sealed record TokenConsole(Stream Stdout, TextWriter Stderr, TextReader Stdin, bool StdinIsTerminal, HostEnvironment Environment, SessionOptions? Engine = null);

/// <summary>
/// <c>oauth-sidecar token</c>: an access token for a shell (<c>curl -H "Authorization: Bearer $(oauth-sidecar token …)"</c>),
/// as <c>gcloud auth print-access-token</c> and <c>az account get-access-token</c> give one. It is <c>getCredentials</c>
/// from the command line, with the same store as the JSON-RPC methods (the same data directory and backend): a stored
/// token, else a silent refresh, else a sign-in by the <c>auto</c> chain, the address and user code on stderr.
/// Exit codes: 0 the token was printed; 1 an error (a sentence on stderr; a usage error too); 2 no sign-in completed
/// in time; 3 a sign-in was needed but not possible (<c>--interactive none</c>, or nothing left to try).
/// </summary>
internal static class TokenCommand
{
    /// <summary>The scopes asked for when <c>--scope</c> is not given: an OpenID Connect sign-in with a refresh token.</summary>
    public static readonly IReadOnlyList<string> DefaultScopes = ["openid", "offline_access"];

    /// <summary>The environment variable that carries a confidential client's secret (never argv, which every user can read).</summary>
    public const string ClientSecretVariable = "OAUTH_SIDECAR_CLIENT_SECRET";

    /// <summary>Exit code: the token was printed.</summary>
    public const int Ok = 0;

    /// <summary>Exit code: an error, with a sentence on stderr.</summary>
    public const int Failed = 1;

    /// <summary>Exit code: no sign-in completed in time.</summary>
    public const int TimedOut = 2;

    /// <summary>Exit code: a sign-in was needed but not possible.</summary>
    public const int InteractionRequired = 3;

    /// <summary>Runs the command.</summary>
    /// <param name="arguments">The parsed options.</param>
    /// <param name="console">Where it reads and writes.</param>
    /// <returns>The exit code.</returns>
    public static async Task<int> RunAsync(TokenArguments arguments, TokenConsole console)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentNullException.ThrowIfNull(console);
        TextWriter stderr = console.Stderr;
        var redactor = new SecretRedactor();
        using var loggerProvider = new RpcLoggerProvider(redactor, LogLevel.Warning, stderr);
        using var loggerFactory = new LoggerFactory([loggerProvider], new LoggerFilterOptions { MinLevel = LogLevel.Warning });
        using var browser = new SystemBrowser(console.Environment, Environment.GetEnvironmentVariable);
        var host = new TerminalSignInHost(browser, console.Stdin, console.StdinIsTerminal, stderr);
        SessionOptions engine = console.Engine ?? new SessionOptions();
        TimeSpan timeout = TimeSpan.FromSeconds(arguments.TimeoutSeconds);
        await using var session = new OAuthSession(new SessionOptions
        {
            LoggerFactory = loggerFactory,
            Redactor = redactor,
            Events = host,
            InteractiveTimeout = timeout,
            TimeProvider = engine.TimeProvider,
            HttpHandlerFactory = engine.HttpHandlerFactory,
            DataDirectory = engine.DataDirectory,
        });
        try
        {
            StorageBackend backend = arguments.Storage ?? DefaultStorage(stderr);
            string? secret = await ClientSecretAsync(arguments, console).ConfigureAwait(false);
            redactor.Register(secret);
            OAuthClient client = await session.Clients.CreateAsync(arguments.Issuer, null, new ClientRegistration { ClientId = arguments.ClientId, ClientSecret = secret, Storage = backend }, CancellationToken.None).ConfigureAwait(false);
            var request = new CredentialRequest
            {
                Scopes = arguments.Scopes.Count > 0 ? arguments.Scopes : DefaultScopes,
                Interactive = arguments.Interactive,
                Account = arguments.Account,
                Host = host,
            };

            // The device flow waits as long as its code lives; --timeout bounds every sign-in.
            using var deadline = new CancellationTokenSource(timeout);
            TokenOutcome outcome = await session.Credentials.GetCredentialsAsync(client, session.Storage.Get(backend), request, deadline.Token).ConfigureAwait(false);
            TokenResult result = ErrorMapping.Unwrap(outcome);
            byte[] text = arguments.Json
                ? Encoding.UTF8.GetBytes(JsonSerializer.Serialize(result, SidecarJsonContext.Default.TokenResult) + "\n")
                : Encoding.UTF8.GetBytes(result.AccessToken + "\n");
            await console.Stdout.WriteAsync(text).ConfigureAwait(false);
            await console.Stdout.FlushAsync().ConfigureAwait(false);
            return Ok;
        }
        catch (StreamJsonRpc.LocalRpcException ex) when (ex.ErrorCode == ErrorCodes.OAuthError)
        {
            await stderr.WriteLineAsync(redactor.Redact(ex.Message)).ConfigureAwait(false);
            return Failed;
        }
        catch (Exception ex) when (ex is FlowTimeoutException or OperationCanceledException)
        {
            await stderr.WriteLineAsync($"No sign-in completed within {arguments.TimeoutSeconds.ToString(CultureInfo.InvariantCulture)} s (--timeout).").ConfigureAwait(false);
            return TimedOut;
        }
        catch (InteractionRequiredException ex)
        {
            await stderr.WriteLineAsync(redactor.Redact(ex.Message + Advice(ex.Kind))).ConfigureAwait(false);
            return InteractionRequired;
        }
        catch (SidecarException ex)
        {
            await stderr.WriteLineAsync(redactor.Redact(ex is InvalidOptionException invalid ? WireNames.Message(invalid) : ex.Message)).ConfigureAwait(false);
            return Failed;
        }
    }

    // The client secret: the first line of --client-secret-file ("-": stdin), else $OAUTH_SIDECAR_CLIENT_SECRET, else none.
    private static async Task<string?> ClientSecretAsync(TokenArguments arguments, TokenConsole console)
    {
        if (arguments.ClientSecretFile is { } path)
        {
            string? line;
            try
            {
                if (path == "-")
                {
                    line = await console.Stdin.ReadLineAsync().ConfigureAwait(false);
                }
                else
                {
                    using var reader = new StreamReader(path);
                    line = await reader.ReadLineAsync().ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new InvalidOptionException(CoreOption.ClientSecret, $"The client secret file '{path}' cannot be read ({ex.GetType().Name}): pass --client-secret-file a readable file, or set {ClientSecretVariable}.");
            }

            return string.IsNullOrWhiteSpace(line)
                ? throw new InvalidOptionException(CoreOption.ClientSecret, $"The client secret file '{path}' is empty: its first line must be the secret.")
                : line.Trim();
        }

        return Environment.GetEnvironmentVariable(ClientSecretVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : null;
    }

    // The keyring where it can be reached; else (a headless machine, an SSH session) the file store, said on stderr.
    private static StorageBackend DefaultStorage(TextWriter stderr)
    {
        if (StorageFactory.Available.Contains(StorageBackend.Keyring))
        {
            return StorageBackend.Keyring;
        }

        stderr.WriteLine("The OS keyring cannot be reached here, so the file store is used (files readable by your user only); pass --storage to choose.");
        return StorageBackend.File;
    }

    // What a shell user can do about exit code 3.
    private static string Advice(InteractionRequiredKind kind) => kind switch
    {
        InteractionRequiredKind.NotAllowed => " Run it with --interactive auto (the default) to sign in.",
        InteractionRequiredKind.NoWayLeft or InteractionRequiredKind.PasteUnavailable => " Run it in a terminal, so that the address the browser ends on can be pasted, or where a browser can reach this machine.",
        _ => string.Empty,
    };
}
