using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using System.Text.Json.Serialization.Metadata;
using OAuthSidecar.Rpc.Contracts;
using StreamJsonRpc;

namespace OAuthSidecar.Rpc;

/// <summary>
/// Generates <c>schema/oauth-sidecar.openrpc.json</c> (OpenRPC 1.3) from the contract: the methods of
/// <see cref="ISidecarRpc"/> with their <see cref="JsonRpcMethodAttribute"/> names and
/// <see cref="ProtocolMethodAttribute"/> summaries and errors, the <see cref="ServerMessages"/> the sidecar sends, and
/// JSON Schemas exported from the source-generated contract types with <see cref="JsonSchemaExporter"/>.
/// </summary>
public static class SchemaGenerator
{
    private static readonly JsonSchemaExporterOptions ExporterOptions = new()
    {
        TreatNullObliviousAsNonNullable = true,
        // A type read by its own converter exports as "anything": say what the converter accepts.
        TransformSchemaNode = static (context, node) => context.TypeInfo.Type == typeof(DpopSetting) ? DpopSettingSchema() : node,
    };

    private static readonly (int Code, string Name, string Message, Type? Data)[] Errors =
    [
        (ErrorCodes.ParseError, "ParseError", "The message is not valid JSON; it was skipped and the sidecar keeps serving.", null),
        (ErrorCodes.InvalidRequest, "InvalidRequest", "The JSON is not a valid JSON-RPC request, or is larger than the limit.", null),
        (ErrorCodes.MethodNotFound, "MethodNotFound", "The method does not exist.", null),
        (ErrorCodes.InvalidParams, "InvalidParams", "A parameter is missing, unknown or of the wrong type or value; data.field names it.", typeof(InvalidParamsData)),
        (ErrorCodes.InternalError, "InternalError", "A bug in the sidecar; it keeps serving.", null),
        (ErrorCodes.RequestCancelled, "RequestCancelled", "Cancelled by $/cancelRequest or cancelFlow (LSP's RequestCancelled).", null),
        (ErrorCodes.Timeout, "Timeout", "An interactive wait ran out.", typeof(TimeoutData)),
        (ErrorCodes.StateMismatch, "StateMismatch", "An authorization response's state or iss (RFC 9207) does not match.", typeof(StateMismatchData)),
        (ErrorCodes.OAuthError, "OAuthError", "The authorization server answered an OAuth error.", typeof(OAuthErrorData)),
        (ErrorCodes.UnknownHandle, "UnknownHandle", "No flow or client has that handle.", typeof(UnknownHandleData)),
        (ErrorCodes.ListenFailed, "ListenFailed", "The loopback listener could not start.", typeof(ListenFailedData)),
        (ErrorCodes.ServerUnreachable, "ServerUnreachable", "The authorization server could not be used (network, TLS, HTTP error, not JSON).", typeof(ServerUnreachableData)),
        (ErrorCodes.InvalidIdToken, "InvalidIdToken", "The id_token failed OpenID Connect Core §3.1.3.7 validation.", typeof(InvalidIdTokenData)),
        (ErrorCodes.InteractionRequired, "InteractionRequired", "getCredentials with interactive 'none' and nothing usable stored.", null),
        (ErrorCodes.StorageUnavailable, "StorageUnavailable", "The credential store cannot be used.", typeof(StorageUnavailableData)),
    ];

    /// <summary>Generates the OpenRPC document.</summary>
    /// <returns>The document, indented, with a final newline.</returns>
    public static string Generate()
    {
        var methods = new List<JsonNode>();
        foreach (MethodInfo method in ContractMethods(typeof(ISidecarRpc)).OrderBy(m => RpcName(m), StringComparer.Ordinal))
        {
            ProtocolMethodAttribute info = method.GetCustomAttribute<ProtocolMethodAttribute>() ?? throw new InvalidOperationException($"{method.Name} has no [ProtocolMethod].");
            Type? parameters = method.GetParameters().Select(p => p.ParameterType).FirstOrDefault(t => t != typeof(CancellationToken));
            var entry = new JsonObject
            {
                ["name"] = RpcName(method),
                ["summary"] = info.Summary,
                ["paramStructure"] = "by-name",
                ["params"] = parameters is null ? new JsonArray() : ContentDescriptors(parameters),
            };
            if (method.ReturnType == typeof(void))
            {
                entry["x-notification"] = true;
            }
            else
            {
                Type? result = method.ReturnType.IsGenericType ? method.ReturnType.GetGenericArguments()[0] : null;
                entry["result"] = new JsonObject
                {
                    ["name"] = RpcName(method) + "Result",
                    ["schema"] = result is null ? new JsonObject { ["type"] = "null" } : Schema(result),
                };
            }

            // Every request can be cancelled ($/cancelRequest) and can meet the JSON-RPC standard errors.
            bool request = method.ReturnType != typeof(void);
            entry["errors"] = new JsonArray([.. Errors.Where(e => e.Code is ErrorCodes.ParseError or ErrorCodes.InvalidRequest or ErrorCodes.MethodNotFound or ErrorCodes.InternalError || (request && e.Code == ErrorCodes.RequestCancelled) || info.Codes.Contains(e.Code)).Select(e => (JsonNode)new JsonObject { ["$ref"] = "#/components/errors/" + e.Name })]);
            methods.Add(entry);
        }

        methods.Add(new JsonObject
        {
            ["name"] = "$/cancelRequest",
            ["summary"] = "Cancels a request, which then fails with -32800 (LSP).",
            ["paramStructure"] = "by-name",
            ["params"] = ContentDescriptors(typeof(CancelRequestParams)),
            ["x-notification"] = true,
        });

        foreach (ServerMessage message in ServerMessages.All)
        {
            var entry = new JsonObject
            {
                ["name"] = message.Name,
                ["summary"] = message.Summary,
                ["paramStructure"] = "by-name",
                ["params"] = ContentDescriptors(message.ParamsType),
                ["x-direction"] = "server-to-client",
            };
            if (message.IsNotification)
            {
                entry["x-notification"] = true;
            }
            else
            {
                entry["result"] = new JsonObject { ["name"] = message.Name + "Result", ["schema"] = Schema(message.ResultType!) };
            }

            methods.Add(entry);
        }

        var errors = new JsonObject();
        foreach ((int code, string name, string message, Type? data) in Errors)
        {
            var error = new JsonObject { ["code"] = code, ["message"] = message };
            if (data is not null)
            {
                error["data"] = Schema(data);
            }

            errors[name] = error;
        }

        var document = new JsonObject
        {
            ["openrpc"] = "1.3.2",
            ["info"] = new JsonObject
            {
                ["title"] = "OAuth Sidecar",
                ["version"] = SidecarRpcTarget.ProtocolVersion + ".0.0",
                ["description"] = "An OAuth 2.0 / OpenID Connect helper process driven over JSON-RPC 2.0 on stdio (LSP framing by default). Generated from the contract types; do not edit by hand.",
            },
            ["methods"] = new JsonArray([.. methods]),
            ["components"] = new JsonObject { ["errors"] = errors },
        };
        return document.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }

    // createClient's dpop: a boolean, or { alg } (DpopSettingConverter).
    private static JsonObject DpopSettingSchema() => new()
    {
        ["anyOf"] = new JsonArray(
            new JsonObject { ["type"] = "boolean" },
            new JsonObject
            {
                ["type"] = "object",
                ["properties"] = new JsonObject { ["alg"] = new JsonObject { ["type"] = new JsonArray("string", "null") } },
                ["additionalProperties"] = false,
            },
            new JsonObject { ["type"] = "null" }),
    };

    private static IEnumerable<MethodInfo> ContractMethods([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicMethods)] Type contract) =>
        contract.GetMethods().Where(m => m.GetCustomAttribute<JsonRpcMethodAttribute>() is not null);

    private static string RpcName(MethodInfo method) => method.GetCustomAttribute<JsonRpcMethodAttribute>()!.Name!;

    private static JsonNode Schema(Type type)
    {
        JsonTypeInfo info = SidecarJsonContext.WireOptions.GetTypeInfo(type);
        return info.GetJsonSchemaAsNode(ExporterOptions);
    }

    // OpenRPC "by-name" parameters: one content descriptor per property of the parameter object.
    private static JsonArray ContentDescriptors(Type parameters)
    {
        JsonNode schema = Schema(parameters.IsGenericType && parameters.GetGenericTypeDefinition() == typeof(Nullable<>) ? parameters.GetGenericArguments()[0] : parameters);
        var required = (schema["required"] as JsonArray)?.Select(r => r!.GetValue<string>()).ToHashSet(StringComparer.Ordinal) ?? [];
        var result = new JsonArray();
        if (schema["properties"] is JsonObject properties)
        {
            foreach ((string name, JsonNode? property) in properties)
            {
                result.Add((JsonNode)new JsonObject
                {
                    ["name"] = name,
                    ["required"] = required.Contains(name),
                    ["schema"] = property?.DeepClone(),
                });
            }
        }

        return result;
    }
}
