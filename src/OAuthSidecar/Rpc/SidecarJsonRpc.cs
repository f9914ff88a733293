using Microsoft.Extensions.Logging;
using OAuthSidecar.Core.Diagnostics;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;

namespace OAuthSidecar.Rpc;

/// <summary>The sidecar's <see cref="JsonRpc"/>: errors go through <see cref="ErrorMapping"/>, never with a stack trace.</summary>
internal sealed class SidecarJsonRpc : JsonRpc
{
    private readonly SecretRedactor redactor;
    private readonly ILogger logger;

    public SidecarJsonRpc(IJsonRpcMessageHandler handler, SecretRedactor redactor, ILogger logger)
        : base(handler)
    {
        this.redactor = redactor;
        this.logger = logger;
    }

    protected override JsonRpcError.ErrorDetail CreateErrorDetails(JsonRpcRequest request, Exception exception)
    {
        if (ErrorMapping.IsUnexpected(exception))
        {
            this.logger.LogError("{Method} failed unexpectedly: {Exception}", request.Method, exception.ToString());
        }

        return ErrorMapping.ToErrorDetail(exception, this.redactor, request.Method);
    }
}
