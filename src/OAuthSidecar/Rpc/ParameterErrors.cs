using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using StreamJsonRpc;

namespace OAuthSidecar.Rpc;

/// <summary>
/// Describes a parameter object that could not be read (-32602): which field, and why, from structured facts only —
/// <see cref="JsonException.Path"/>, <see cref="MissingRequiredMemberException.Member"/>, and the contract's
/// source-generated metadata — never from message texts.
/// </summary>
internal static class ParameterErrors
{
    // Method name → parameter object type, from the contract's [JsonRpcMethod] attributes; built on the first error.
    private static readonly Lazy<Dictionary<string, Type>> ParameterTypes = new(() => ReadContract(typeof(ISidecarRpc)));

    /// <summary>What went wrong with a parameter.</summary>
    public enum Problem
    {
        /// <summary>The parameter object as a whole (not an object, or unreadable).</summary>
        Whole,

        /// <summary>A required member is missing or null.</summary>
        Missing,

        /// <summary>A member the method does not have.</summary>
        Unknown,

        /// <summary>A known member whose value has the wrong type or is out of range.</summary>
        WrongValue,

        /// <summary>The member could not be placed (no contract type known): wrong value or unknown.</summary>
        WrongValueOrUnknown,
    }

    /// <summary>Gets the parameter object type of a method of the contract.</summary>
    /// <param name="method">The JSON-RPC method name, e.g. <c>createClient</c>.</param>
    /// <returns>The type, or <see langword="null"/> for a method that takes none or is not in the contract.</returns>
    public static Type? ParametersOf(string? method)
    {
        if (method is null)
        {
            return null;
        }

        try
        {
            return ParameterTypes.Value.GetValueOrDefault(method);
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidOperationException)
        {
            return null; // no reflection metadata (a trimmed build): describe the error without the contract
        }
    }

    /// <summary>Describes a deserialization failure of a parameter object.</summary>
    /// <param name="exception">What System.Text.Json threw.</param>
    /// <param name="parameters">The parameter object's type, when known (see <see cref="ParametersOf"/>).</param>
    /// <returns>The field (dotted wire path, <c>[i]</c> for array items; empty for the whole object), the problem, and a sentence naming the field.</returns>
    public static (string Field, Problem Problem, string Message) Describe(JsonException exception, Type? parameters)
    {
        ArgumentNullException.ThrowIfNull(exception);
        List<string> path = ParsePath(exception.Path);
        if (exception is MissingRequiredMemberException missing)
        {
            path.Add(missing.Member);
            string required = Join(path);
            return (required, Problem.Missing, $"The parameter '{required}' is required (it is missing or null).");
        }

        string field = Join(path);
        if (path.Count == 0)
        {
            return (field, Problem.Whole, "The parameters could not be read: send one JSON object with the method's named parameters (see the schema).");
        }

        JsonTypeInfo? parent = parameters is null ? null : Resolve(SidecarJsonContext.WireOptions.GetTypeInfo(parameters), path.Take(path.Count - 1));
        if (parent is null)
        {
            return (field, Problem.WrongValueOrUnknown, $"The parameter '{field}' is not known for this method or has the wrong type or value (see the schema for this method).");
        }

        JsonTypeInfo? target = Resolve(parent, path.Skip(path.Count - 1));
        return target is null
            ? (field, Problem.Unknown, $"The parameter '{field}' is not known for this method (check its spelling against the schema).")
            : (field, Problem.WrongValue, $"The parameter '{field}' has the wrong type or value: it takes {Expected(target)} (see the schema for this method).");
    }

    /// <summary>
    /// Splits a System.Text.Json path (<c>$.a.b</c>, <c>$['a b']</c>, <c>$.a[2]</c>) into member names and
    /// <c>[i]</c> indexes.
    /// </summary>
    /// <param name="path">The path, or <see langword="null"/>.</param>
    /// <returns>The segments, without the root <c>$</c>.</returns>
    internal static List<string> ParsePath(string? path)
    {
        var segments = new List<string>();
        if (string.IsNullOrEmpty(path))
        {
            return segments;
        }

        int i = path[0] == '$' ? 1 : 0;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                int end = path.IndexOfAny(['.', '['], i + 1);
                end = end < 0 ? path.Length : end;
                segments.Add(path[(i + 1)..end]);
                i = end;
            }
            else if (path[i] == '[' && i + 1 < path.Length && path[i + 1] == '\'')
            {
                // ['name'], where the name may contain any character but the closing quote-bracket.
                int end = path.IndexOf("']", i + 2, StringComparison.Ordinal);
                end = end < 0 ? path.Length : end;
                segments.Add(path[(i + 2)..end]);
                i = Math.Min(path.Length, end + 2);
            }
            else if (path[i] == '[')
            {
                int end = path.IndexOf(']', i + 1);
                end = end < 0 ? path.Length : end;
                segments.Add(path[i..Math.Min(path.Length, end + 1)]);
                i = end + 1;
            }
            else
            {
                int end = path.IndexOfAny(['.', '['], i);
                end = end < 0 ? path.Length : end;
                segments.Add(path[i..end]);
                i = end;
            }
        }

        return segments;
    }

    private static string Join(List<string> segments)
    {
        var field = new StringBuilder();
        foreach (string segment in segments)
        {
            if (field.Length > 0 && !segment.StartsWith('['))
            {
                field.Append('.');
            }

            field.Append(segment);
        }

        return field.ToString();
    }

    // Follows the segments through the contract's metadata; null when a member name is not one of the type's.
    private static JsonTypeInfo? Resolve(JsonTypeInfo info, IEnumerable<string> segments)
    {
        JsonTypeInfo? current = info;
        foreach (string segment in segments)
        {
            Type? next = current.Kind switch
            {
                JsonTypeInfoKind.Object => current.Properties.FirstOrDefault(p => p.Name == segment)?.PropertyType,
                JsonTypeInfoKind.Dictionary or JsonTypeInfoKind.Enumerable => current.ElementType,
                _ => null,
            };
            if (next is null)
            {
                return null;
            }

            current = SidecarJsonContext.WireOptions.GetTypeInfo(next);
        }

        return current;
    }

    private static string Expected(JsonTypeInfo info)
    {
        Type type = Nullable.GetUnderlyingType(info.Type) ?? info.Type;
        return info.Kind switch
        {
            JsonTypeInfoKind.Object or JsonTypeInfoKind.Dictionary => "an object",
            JsonTypeInfoKind.Enumerable => "an array",
            _ when type == typeof(string) => "a string",
            _ when type == typeof(bool) => "true or false",
            _ when type == typeof(int) || type == typeof(long) => "an integer",
            _ when type == typeof(double) || type == typeof(float) || type == typeof(decimal) => "a number",
            _ when type.IsEnum => "one of the values the schema lists",
            _ => "a value of the type the schema gives",
        };
    }

    private static Dictionary<string, Type> ReadContract([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicMethods)] Type contract)
    {
        var types = new Dictionary<string, Type>(StringComparer.Ordinal);
        foreach (MethodInfo method in contract.GetMethods())
        {
            if (method.GetCustomAttribute<JsonRpcMethodAttribute>()?.Name is { } name
                && method.GetParameters().Select(p => p.ParameterType).FirstOrDefault(t => t != typeof(CancellationToken)) is { } parameters)
            {
                types[name] = parameters.IsGenericType && parameters.GetGenericTypeDefinition() == typeof(Nullable<>) ? parameters.GetGenericArguments()[0] : parameters;
            }
        }

        return types;
    }
}
