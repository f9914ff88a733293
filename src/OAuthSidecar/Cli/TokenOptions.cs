using System.CommandLine;
using System.CommandLine.Parsing;
using OAuthSidecar.Core.Credentials;

namespace OAuthSidecar.Cli;

/// <summary>
/// The options of <c>oauth-sidecar token</c> and the command that carries them, in the style of the other commands
/// of <see cref="CommandLine"/>: <c>--issuer URL --client-id ID [--scope S]… [--interactive auto|browser|device|paste|none]
/// [--storage keyring|file|memory] [--account A] [--timeout SECONDS] [--client-secret-file PATH] [--json]</c>.
/// </summary>
internal sealed class TokenOptions
{
    /// <summary>The default of <c>--timeout</c>: 300 s, as every interactive wait of the protocol.</summary>
    public const double DefaultTimeoutSeconds = 300;

    private readonly Option<string?> issuer = new("--issuer") { Description = "The authorization server's issuer: its endpoints are discovered (OpenID Connect discovery, else RFC 8414).", HelpName = "URL" };

    private readonly Option<string?> clientId = new("--client-id") { Description = "The client id registered at the authorization server (a public client: no secret).", HelpName = "ID" };

    private readonly Option<string[]> scope = new("--scope")
    {
        Description = "A scope to ask for; repeat it for several (a space-separated list works too). [default: openid offline_access]",
        HelpName = "S",
        AllowMultipleArgumentsPerToken = false,
    };

    private readonly Option<string?> interactive = new("--interactive")
    {
        Description = "How to sign in when nothing usable is stored: the browser, else the device flow, else pasting the address the browser ends on (auto); one of them; or not at all (none: exit code 3). [default: auto]",
        HelpName = "auto|browser|device|paste|none",
        CustomParser = r => CommandLine.OneOf(r, "--interactive", ["auto", "browser", "device", "paste", "none"]),
    };

    private readonly Option<string?> storage = new("--storage")
    {
        Description = "The credential store, shared with the JSON-RPC methods (OAUTH_SIDECAR_DATA_DIR). [default: keyring where the OS keyring can be reached, else file]",
        HelpName = "keyring|file|memory",
        CustomParser = r => CommandLine.OneOf(r, "--storage", ["keyring", "file", "memory"]),
    };

    private readonly Option<string?> account = new("--account") { Description = "The account (the id_token's sub). [default: the most recently used one]", HelpName = "ACCOUNT" };

    private readonly Option<double> timeout = new("--timeout")
    {
        Description = "How long a sign-in may take, in seconds; exit code 2 when it runs out.",
        HelpName = "SECONDS",
        DefaultValueFactory = _ => DefaultTimeoutSeconds,
        CustomParser = ParseTimeout,
    };

    private readonly Option<string?> clientSecretFile = new("--client-secret-file")
    {
        Description = $"A file whose first line is the client secret of a confidential client ('-': read it from stdin). Or set {TokenCommand.ClientSecretVariable}. Never on the command line: argv is visible to every user of the machine.",
        HelpName = "PATH",
    };

    private readonly Option<bool> json = new("--json") { Description = "Print the whole result as one JSON line (getCredentials' result, with method) instead of the access token alone." };

    /// <summary>Initializes a new instance of the <see cref="TokenOptions"/> class.</summary>
    /// <param name="run">Runs the command; returns the exit code.</param>
    public TokenOptions(Func<TokenArguments, CancellationToken, Task<int>> run)
    {
        this.Command = new Command(
            "token",
            "Print an access token on stdout, for a shell: curl -H \"Authorization: Bearer $(oauth-sidecar token --issuer URL --client-id ID)\". From the store, by a silent refresh, or by a sign-in (the address and the user code on stderr). Exit code 0 with the token, 1 on an error, 2 when no sign-in completed in time, 3 when a sign-in was needed but not possible.");
        foreach (Option option in new Option[] { this.issuer, this.clientId, this.scope, this.interactive, this.storage, this.account, this.timeout, this.clientSecretFile, this.json })
        {
            this.Command.Options.Add(option);
        }

        this.Command.Validators.Add(result =>
        {
            if (result.GetResult(this.issuer) is null)
            {
                result.AddError("--issuer is required: the authorization server's issuer URL.");
            }

            if (result.GetResult(this.clientId) is null)
            {
                result.AddError("--client-id is required: the client id registered at the authorization server.");
            }
        });
        this.Command.SetAction((result, token) => run(this.ArgumentsOf(result), token));
    }

    /// <summary>Gets the <c>token</c> command.</summary>
    public Command Command { get; }

    /// <summary>Reads the command's options from a parse result.</summary>
    /// <param name="result">The parse result.</param>
    /// <returns>The arguments.</returns>
    public TokenArguments ArgumentsOf(ParseResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new TokenArguments(
            result.GetValue(this.issuer)!,
            result.GetValue(this.clientId)!,
            [.. (result.GetValue(this.scope) ?? []).SelectMany(s => s.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))],
            result.GetValue(this.interactive) switch
            {
                "browser" => InteractionMode.Browser,
                "device" => InteractionMode.Device,
                "paste" => InteractionMode.Paste,
                "none" => InteractionMode.None,
                _ => InteractionMode.Auto,
            },
            result.GetValue(this.storage) is { } storageName ? Rpc.ProtocolMapping.ParseStorage(storageName) : null,
            result.GetValue(this.account),
            result.GetValue(this.timeout),
            result.GetValue(this.json),
            result.GetValue(this.clientSecretFile));
    }

    private static double ParseTimeout(ArgumentResult result) => CommandLine.ParseSeconds(result, DefaultTimeoutSeconds, max: 86_400);
}
