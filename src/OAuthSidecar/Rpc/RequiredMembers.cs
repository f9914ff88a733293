using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace OAuthSidecar.Rpc;

/// <summary>
/// Explicit validation of the required members of incoming parameter objects. System.Text.Json's own check
/// (<see cref="JsonPropertyInfo.IsRequired"/>) names the missing members only inside its message text; this one
/// throws <see cref="MissingRequiredMemberException"/>, which carries the member's wire name, and System.Text.Json
/// adds the path of the object that lacks it (<see cref="JsonException.Path"/>). A required member given as JSON
/// <c>null</c> counts as missing.
/// </summary>
/// <remarks>
/// A member whose absence can be seen after deserialization (a reference type, <see cref="JsonElement"/>, a nullable
/// value) is checked by its value; a required value type (a contract enum) by whether its setter ran. Applies to
/// deserialization only: the options still write results as before, and the schema generator reads its own options.
/// </remarks>
internal static class RequiredMembers
{
    /// <summary>Makes <paramref name="options"/> validate required members explicitly.</summary>
    /// <param name="options">Options that are not read-only yet, with a type info resolver.</param>
    /// <returns>The same options.</returns>
    public static JsonSerializerOptions Enforce(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        IJsonTypeInfoResolver resolver = options.TypeInfoResolver ?? throw new ArgumentException("The options have no type info resolver.", nameof(options));
        options.TypeInfoResolver = resolver.WithAddedModifier(Modify);
        return options;
    }

    private static void Modify(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object)
        {
            return;
        }

        List<JsonPropertyInfo>? required = null;
        List<JsonPropertyInfo>? requiredValues = null;
        foreach (JsonPropertyInfo property in info.Properties)
        {
            if (property.IsRequired && property.Get is not null && AbsenceIsVisible(property.PropertyType))
            {
                property.IsRequired = false;
                (required ??= []).Add(property);
            }
            else if (property.IsRequired && property.Set is { } set)
            {
                // A value type reads as its default when absent: remember that the setter ran instead.
                property.IsRequired = false;
                string name = property.Name;
                property.Set = (target, value) =>
                {
                    Seen.GetOrCreateValue(target).Add(name);
                    set(target, value);
                };
                (requiredValues ??= []).Add(property);
            }
        }

        if (required is null && requiredValues is null)
        {
            return;
        }

        JsonPropertyInfo[] members = [.. required ?? []];
        JsonPropertyInfo[] values = [.. requiredValues ?? []];
        Action<object>? previous = info.OnDeserialized;
        info.OnDeserialized = value =>
        {
            previous?.Invoke(value);
            foreach (JsonPropertyInfo member in members)
            {
                if (member.Get!(value) is null or JsonElement { ValueKind: JsonValueKind.Undefined })
                {
                    throw new MissingRequiredMemberException(member.Name);
                }
            }

            if (values.Length > 0)
            {
                HashSet<string>? seen = Seen.TryGetValue(value, out HashSet<string>? s) ? s : null;
                Seen.Remove(value);
                foreach (JsonPropertyInfo member in values)
                {
                    if (seen is null || !seen.Contains(member.Name))
                    {
                        throw new MissingRequiredMemberException(member.Name);
                    }
                }
            }
        };
    }

    // The required value members each object under deserialization has been given.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<object, HashSet<string>> Seen = new();

    private static bool AbsenceIsVisible(Type type) =>
        !type.IsValueType || type == typeof(JsonElement) || Nullable.GetUnderlyingType(type) is not null;
}

/// <summary>
/// A required member of an incoming object is missing or <c>null</c>. <see cref="JsonException.Path"/> is the path
/// of the object that lacks it (<c>$</c> for the parameter object itself).
/// </summary>
internal sealed class MissingRequiredMemberException : JsonException
{
    /// <summary>Initializes a new instance of the <see cref="MissingRequiredMemberException"/> class.</summary>
    /// <param name="member">The member's wire name (camelCase), e.g. <c>clientId</c>.</param>
    public MissingRequiredMemberException(string member)
        : base($"The required member '{member}' is missing or null.")
    {
        this.Member = member;
    }

    /// <summary>Gets the member's wire name.</summary>
    public string Member { get; }
}
