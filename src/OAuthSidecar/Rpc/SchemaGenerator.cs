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
/// <see cref="ProtocolMethodAttribute"/> summaries and errors, the <see cref="ServerMessages"/> the sidecar sends,
/// the error codes of <see cref="ErrorCodes"/>, and JSON Schemas exported from the source-generated contract types
/// with <see cref="JsonSchemaExporter"/>.
/// </summary>
/// <remarks>
/// The document is written for code generators and linters (redocly lint, open-rpc typings): every contract class and
/// enum is a named schema in <c>components.schemas</c> (its <c>title</c> is its protocol name) referenced with
/// <c>$ref</c>; enums list their values; a nullable value is <c>oneOf</c> the value and <c>{ "type": "null" }</c>
/// (no type arrays); there is no boolean schema; and required parameters come before optional ones (the contract
/// declares them in that order; generation fails otherwise).
/// </remarks>
public static class SchemaGenerator
{
    private const string SchemasPointer = "#/components/schemas/";

    /// <summary>Generates the OpenRPC document.</summary>
    /// <returns>The document, indented, with a final newline.</returns>
    public static string Generate() => new Builder().Build();

    /// <summary>Gets the protocol name of a contract type: <see cref="ProtocolTypeAttribute"/>, else the C# name without <c>Dto</c>.</summary>
    /// <param name="type">A contract class or enum.</param>
    /// <returns>The name, e.g. <c>ServerConfiguration</c>.</returns>
    public static string ProtocolName(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return type.GetCustomAttribute<ProtocolTypeAttribute>()?.Name
            ?? (type.Name.EndsWith("Dto", StringComparison.Ordinal) ? type.Name[..^3] : type.Name);
    }

    private sealed class Builder
    {
        private readonly SortedDictionary<string, JsonObject> schemas = new(StringComparer.Ordinal);
        private readonly JsonSchemaExporterOptions exporterOptions;

        public Builder()
        {
            this.exporterOptions = new() { TreatNullObliviousAsNonNullable = true, TransformSchemaNode = Annotate };
        }

        public string Build()
        {
            var errorCodes = ErrorTable().ToList();
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
                    ["params"] = parameters is null ? new JsonArray() : this.ContentDescriptors(RpcName(method), parameters),
                };
                bool request = method.ReturnType != typeof(void);
                if (request)
                {
                    Type? result = method.ReturnType.IsGenericType ? method.ReturnType.GetGenericArguments()[0] : null;
                    entry["result"] = new JsonObject
                    {
                        ["name"] = RpcName(method) + "Result",
                        ["schema"] = result is null ? new JsonObject { ["type"] = "null" } : this.Schema(result),
                    };
                }
                else
                {
                    entry["x-notification"] = true;
                }

                // Every request can be cancelled ($/cancelRequest) and can meet the JSON-RPC standard errors.
                entry["errors"] = new JsonArray([.. errorCodes
                    .Where(e => e.Code is ErrorCodes.ParseError or ErrorCodes.InvalidRequest or ErrorCodes.MethodNotFound or ErrorCodes.InternalError || (request && e.Code == ErrorCodes.RequestCancelled) || info.Codes.Contains(e.Code))
                    .Select(e => (JsonNode)new JsonObject { ["$ref"] = "#/components/errors/" + e.Name })]);
                methods.Add(entry);
            }

            methods.Add(new JsonObject
            {
                ["name"] = "$/cancelRequest",
                ["summary"] = "Cancels a request, which then fails with -32800 (LSP).",
                ["paramStructure"] = "by-name",
                ["params"] = this.ContentDescriptors("$/cancelRequest", typeof(CancelRequestParams)),
                ["x-notification"] = true,
            });

            foreach (ServerMessage message in ServerMessages.All)
            {
                var entry = new JsonObject
                {
                    ["name"] = message.Name,
                    ["summary"] = message.Summary,
                    ["paramStructure"] = "by-name",
                    ["params"] = this.ContentDescriptors(message.Name, message.ParamsType),
                    ["x-direction"] = "server-to-client",
                };
                if (message.IsNotification)
                {
                    entry["x-notification"] = true;
                }
                else
                {
                    entry["result"] = new JsonObject { ["name"] = message.Name + "Result", ["schema"] = this.Schema(message.ResultType!) };

                    // The caller may answer a request of the sidecar with an error: -32800 when it was cancelled
                    // ($/cancelRequest: the sign-in ended another way) or the user declined, -32603 when it failed.
                    entry["errors"] = new JsonArray([.. errorCodes
                        .Where(e => e.Code is ErrorCodes.RequestCancelled or ErrorCodes.InternalError)
                        .Select(e => (JsonNode)new JsonObject { ["$ref"] = "#/components/errors/" + e.Name })]);
                }

                methods.Add(entry);
            }

            var errors = new JsonObject();
            foreach ((int code, string name, string message, Type? data) in errorCodes)
            {
                var error = new JsonObject { ["code"] = code, ["message"] = message };
                if (data is not null)
                {
                    error["data"] = this.Schema(data);
                }

                errors[name] = error;
            }

            var schemaNodes = new JsonObject();
            foreach ((string name, JsonObject schema) in this.schemas)
            {
                schemaNodes[name] = schema;
            }

            var document = new JsonObject
            {
                ["openrpc"] = "1.3.2",
                ["info"] = new JsonObject
                {
                    ["title"] = "OAuth Sidecar",
                    ["version"] = ProductVersion.Current,
                    ["description"] = "An OAuth 2.0 / OpenID Connect helper process driven over JSON-RPC 2.0 on stdio (LSP framing by default). Generated from the contract types; do not edit by hand.",
                    ["license"] = new JsonObject { ["name"] = "MIT" },
                },
                ["methods"] = new JsonArray([.. methods]),
                ["components"] = new JsonObject { ["schemas"] = schemaNodes, ["errors"] = errors },
            };
            return document.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
        }

        // The error codes in declaration order: the name and value of each constant of ErrorCodes and its [ProtocolError].
        private static IEnumerable<(int Code, string Name, string Message, Type? Data)> ErrorTable() =>
            typeof(ErrorCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
                .Where(f => f.IsLiteral && f.FieldType == typeof(int))
                // The parse error, JSON-RPC's request errors, LSP's cancellation, then the sidecar's own codes, each group
                // from its highest code down. (Not by declaration order: NativeAOT keeps no metadata tokens, and the
                // shipped binary prints this schema too.)
                .OrderBy(f => ErrorGroup((int)f.GetRawConstantValue()!))
                .ThenByDescending(f => (int)f.GetRawConstantValue()!)
                .Select(f =>
                {
                    ProtocolErrorAttribute info = f.GetCustomAttribute<ProtocolErrorAttribute>() ?? throw new InvalidOperationException($"ErrorCodes.{f.Name} has no [ProtocolError].");
                    return ((int)f.GetRawConstantValue()!, f.Name, info.Message, info.Data);
                });

        private static int ErrorGroup(int code) => code switch
        {
            ErrorCodes.ParseError => 0,
            <= ErrorCodes.InvalidRequest and >= ErrorCodes.InternalError => 1,
            ErrorCodes.RequestCancelled => 2,
            _ => 3,
        };

        private static IEnumerable<MethodInfo> ContractMethods([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicMethods)] Type contract) =>
            contract.GetMethods().Where(m => m.GetCustomAttribute<JsonRpcMethodAttribute>() is not null);

        private static string RpcName(MethodInfo method) => method.GetCustomAttribute<JsonRpcMethodAttribute>()!.Name!;

        // Marks what the exporter cannot know: the protocol name of every contract class and enum (as its title), the
        // values of contract enums, the shape of JsonElement members and of the types read by their own converters. Hoist() then moves every titled schema to
        // components.schemas.
        private static JsonNode Annotate(JsonSchemaExporterContext context, JsonNode node)
        {
            Type type = context.TypeInfo.Type;
            Type element = Nullable.GetUnderlyingType(type) ?? type;
            // A required member is never null on the wire (RequiredMembers treats null as missing), even when its C# type
            // is nullable so that its absence can be seen.
            bool nullable = context.PropertyInfo is not { IsRequired: true }
                && (element != type || (node is JsonObject o && o["type"] is JsonArray types && types.Any(t => t?.GetValue<string>() == "null")));
            if (element == typeof(JsonElement))
            {
                JsonShape shape = (context.PropertyInfo?.AttributeProvider?.GetCustomAttributes(typeof(JsonShapeAttribute), inherit: false).FirstOrDefault() as JsonShapeAttribute)?.Shape
                    ?? throw new InvalidOperationException($"{context.PropertyInfo?.DeclaringType.Name}.{context.PropertyInfo?.Name} is a JsonElement without [JsonShape]: say what it holds.");
                return shape switch
                {
                    JsonShape.AnyObject => Titled("JsonObject", new JsonObject { ["type"] = nullable ? new JsonArray("object", "null") : "object" }),
                    _ => Titled("RequestId", new JsonObject { ["oneOf"] = new JsonArray(new JsonObject { ["type"] = "integer" }, new JsonObject { ["type"] = "string" }) }),
                };
            }

            if (element == typeof(ResourceIndicators))
            {
                // A custom converter exports as "anything": say what it reads (RFC 8707: one resource or several).
                JsonObject oneOrMany = Titled("ResourceIndicators", new JsonObject
                {
                    ["oneOf"] = new JsonArray(new JsonObject { ["type"] = "string" }, new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "string" } }),
                });
                return nullable ? new JsonObject { ["oneOf"] = new JsonArray(oneOrMany, new JsonObject { ["type"] = "null" }) } : oneOrMany;
            }

            if (element == typeof(DpopSetting))
            {
                // A custom converter exports as "anything": say what it reads (RFC 9449: on or off, or the key's algorithm).
                JsonObject options = Titled("DpopOptions", new JsonObject
                {
                    ["type"] = "object",
                    ["properties"] = new JsonObject { ["alg"] = WireEnum(typeof(DpopAlgorithmDto), context.TypeInfo.Options, nullable: true) },
                    ["additionalProperties"] = false,
                });
                JsonObject setting = Titled("DpopSetting", new JsonObject { ["oneOf"] = new JsonArray(new JsonObject { ["type"] = "boolean" }, options) });
                return nullable ? new JsonObject { ["oneOf"] = new JsonArray(setting, new JsonObject { ["type"] = "null" }) } : setting;
            }

            if (context.TypeInfo.Options.GetTypeInfo(element).Converter is IWireValues)
            {
                return WireEnum(element, context.TypeInfo.Options, nullable);
            }

            if (node is JsonObject obj && element.Namespace == typeof(ErrorCodes).Namespace && context.TypeInfo.Kind == JsonTypeInfoKind.Object)
            {
                return Titled(ProtocolName(element), obj);
            }

            if (node is JsonObject map && context.TypeInfo.Kind == JsonTypeInfoKind.Dictionary && context.TypeInfo.ElementType == typeof(string) && context.TypeInfo.KeyType == typeof(string))
            {
                return Titled("StringMap", map);
            }

            return node is JsonValue value && value.GetValueKind() is JsonValueKind.True or JsonValueKind.False
                ? throw new InvalidOperationException($"{context.TypeInfo.Type.Name} has no schema but true/false; give it a shape the schema can say.")
                : node;
        }

        // A contract enum: its protocol name and its wire values.
        private static JsonObject WireEnum(Type type, JsonSerializerOptions options, bool nullable) =>
            Titled(ProtocolName(type), new JsonObject
            {
                ["type"] = nullable ? new JsonArray("string", "null") : "string",
                ["enum"] = new JsonArray([.. ((IWireValues)options.GetTypeInfo(type).Converter).WireValues.Select(v => (JsonNode)v)]),
            });

        private static JsonObject Titled(string title, JsonObject schema)
        {
            var titled = new JsonObject { ["title"] = title };
            foreach ((string key, JsonNode? value) in schema.ToList())
            {
                if (key != "title")
                {
                    schema.Remove(key);
                    titled[key] = value;
                }
            }

            return titled;
        }

        private JsonNode Raw(Type type) => SidecarJsonContext.WireOptions.GetTypeInfo(type).GetJsonSchemaAsNode(this.exporterOptions);

        private JsonNode Schema(Type type) => this.Hoist(this.Raw(type));

        // Moves every titled schema (also a member of a oneOf) into components.schemas (a $ref stays), and turns type
        // arrays with "null" into oneOf [the value, null].
        private JsonNode Hoist(JsonNode node)
        {
            if (node is not JsonObject schema)
            {
                return node;
            }

            foreach (string key in new[] { "items", "additionalProperties" })
            {
                if (schema[key] is JsonObject child)
                {
                    schema[key] = this.Hoist(child.DeepClone());
                }
            }

            if (schema["properties"] is JsonObject properties)
            {
                foreach ((string name, JsonNode? property) in properties.ToList())
                {
                    properties[name] = property is null ? null : this.Hoist(property.DeepClone());
                }
            }

            if (schema["oneOf"] is JsonArray members)
            {
                for (int i = 0; i < members.Count; i++)
                {
                    members[i] = members[i] is { } member ? this.Hoist(member.DeepClone()) : null;
                }
            }

            bool nullable = false;
            if (schema["type"] is JsonArray types)
            {
                string[] kinds = [.. types.Select(t => t!.GetValue<string>())];
                nullable = kinds.Contains("null");
                string[] rest = [.. kinds.Where(k => k != "null")];
                schema["type"] = rest.Length == 1 ? rest[0] : throw new InvalidOperationException($"A schema of types {string.Join(", ", kinds)}: only one type and null are supported.");
            }

            JsonNode value = schema;
            if (schema["title"]?.GetValue<string>() is { } title)
            {
                this.Register(title, schema);
                value = new JsonObject { ["$ref"] = SchemasPointer + title };
            }

            return nullable ? new JsonObject { ["oneOf"] = new JsonArray(value, new JsonObject { ["type"] = "null" }) } : value;
        }

        private void Register(string title, JsonObject schema)
        {
            if (this.schemas.TryGetValue(title, out JsonObject? known))
            {
                if (!JsonNode.DeepEquals(known, schema))
                {
                    throw new InvalidOperationException($"Two different contract types are called {title} in the schema: rename one or give it a [ProtocolType].");
                }

                return;
            }

            this.schemas[title] = schema;
        }

        // OpenRPC "by-name" parameters: one content descriptor per property of the parameter object, required first.
        private JsonArray ContentDescriptors(string method, Type parameters)
        {
            JsonNode raw = this.Raw(Nullable.GetUnderlyingType(parameters) ?? parameters);
            var required = (raw["required"] as JsonArray)?.Select(r => r!.GetValue<string>()).ToHashSet(StringComparer.Ordinal) ?? [];
            var result = new JsonArray();
            string? optional = null;
            if (raw["properties"] is JsonObject properties)
            {
                foreach ((string name, JsonNode? property) in properties)
                {
                    bool isRequired = required.Contains(name);
                    if (isRequired && optional is not null)
                    {
                        throw new InvalidOperationException($"{method}: the required parameter {name} comes after the optional {optional}; declare required members first in {parameters.Name}.");
                    }

                    optional ??= isRequired ? null : name;
                    result.Add((JsonNode)new JsonObject
                    {
                        ["name"] = name,
                        ["required"] = isRequired,
                        ["schema"] = this.Hoist(property!.DeepClone()),
                    });
                }
            }

            return result;
        }
    }
}
