using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace OAuthSidecar.Rpc;

/// <summary>
/// Turns a contract object into named JSON-RPC arguments without reflection: the object is serialized with its
/// source-generated metadata and each top-level property becomes one argument (a <see cref="JsonElement"/>).
/// StreamJsonRpc's <c>object</c> overloads reflect over the argument, which NativeAOT does not allow.
/// </summary>
internal static class RpcArguments
{
    private static readonly Dictionary<string, Type> NoTypes = [];

    /// <summary>Gets the declared type of every argument: <see cref="JsonElement"/>.</summary>
    /// <param name="arguments">The arguments.</param>
    /// <returns>The declared types.</returns>
    public static IReadOnlyDictionary<string, Type> TypesOf(IReadOnlyDictionary<string, object?> arguments)
    {
        if (arguments.Count == 0)
        {
            return NoTypes;
        }

        var types = new Dictionary<string, Type>(arguments.Count, StringComparer.Ordinal);
        foreach (string key in arguments.Keys)
        {
            types[key] = typeof(JsonElement);
        }

        return types;
    }

    /// <summary>Splits <paramref name="value"/> into named arguments.</summary>
    /// <typeparam name="T">The contract type.</typeparam>
    /// <param name="value">The parameter object.</param>
    /// <returns>The named arguments.</returns>
    public static IReadOnlyDictionary<string, object?> From<T>(T value)
    {
        var typeInfo = (JsonTypeInfo<T>)SidecarJsonContext.WireOptions.GetTypeInfo(typeof(T));
        JsonElement element = JsonSerializer.SerializeToElement(value, typeInfo);
        var arguments = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (JsonProperty property in element.EnumerateObject())
        {
            arguments[property.Name] = property.Value;
        }

        return arguments;
    }
}
