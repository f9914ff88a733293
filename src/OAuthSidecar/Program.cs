using OAuthSidecar.Cli;
using OAuthSidecar.Rpc;

namespace OAuthSidecar;

/// <summary>The <c>oauth-sidecar</c> executable.</summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        // stdout is the protocol: anything that writes to Console.Out by accident goes to stderr instead.
        Stream stdout = StdioPipes.OpenStandardOutput();
        Console.SetOut(Console.Error);

        if (args.Length > 0 && args[0] == "callback")
        {
            return await CallbackCommand.RunAsync(args[1..], stdout, Console.Error).ConfigureAwait(false);
        }

        CommandLine command = CommandLine.Parse(args);
        switch (command.Command)
        {
            case "help":
                await stdout.WriteAsync(System.Text.Encoding.UTF8.GetBytes(CommandLine.Usage + Environment.NewLine)).ConfigureAwait(false);
                return 0;
            case "schema":
                await stdout.WriteAsync(System.Text.Encoding.UTF8.GetBytes(SchemaGenerator.Generate())).ConfigureAwait(false);
                return 0;
            case "version":
                await stdout.WriteAsync(System.Text.Encoding.UTF8.GetBytes(SidecarRpcTarget.Version + Environment.NewLine)).ConfigureAwait(false);
                return 0;
            case "error":
                await Console.Error.WriteLineAsync(command.Error).ConfigureAwait(false);
                return 2;
            default:
                return await StdioHost.RunAsync(command.Host, Console.OpenStandardInput(), stdout, StdioPipes.OpenStandardError()).ConfigureAwait(false);
        }
    }
}
