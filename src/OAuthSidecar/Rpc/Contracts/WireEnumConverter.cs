using System.Buffers;
using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OAuthSidecar.Rpc.Contracts;

/// <summary>A contract enum's wire values, for the schema (<c>enum</c>) and for error messages.</summary>
public interface IWireValues
{
    /// <summary>Gets the wire strings, in declaration order.</summary>
    IReadOnlyList<string> WireValues { get; }
}

/// <summary>
/// Reads and writes a contract enum as the string of its <see cref="JsonStringEnumMemberNameAttribute"/> (the names come
/// from System.Text.Json's <see cref="JsonStringEnumConverter{TEnum}"/>), strictly: only those exact strings are read
/// (no numbers, no other casing), and anything else fails with a <see cref="WireValueException"/> that lists them, so
/// the caller gets -32602 naming the field and its allowed values.
/// </summary>
/// <typeparam name="TEnum">The contract enum.</typeparam>
public sealed class WireEnumConverter<TEnum> : JsonConverter<TEnum>, IWireValues
    where TEnum : struct, Enum
{
    private static readonly JsonSerializerOptions NameOptions = new();

    private static readonly JsonConverter<TEnum> Names =
        (JsonConverter<TEnum>)new JsonStringEnumConverter<TEnum>(namingPolicy: null, allowIntegerValues: false).CreateConverter(typeof(TEnum), NameOptions)!;

    private static readonly FrozenDictionary<TEnum, string> NameOf = Enum.GetValues<TEnum>().ToFrozenDictionary(v => v, WireName);

    private static readonly FrozenDictionary<string, TEnum> ValueOf = NameOf.ToFrozenDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);

    private static readonly string[] Values = [.. Enum.GetValues<TEnum>().Select(v => NameOf[v])];

    /// <inheritdoc/>
    public IReadOnlyList<string> WireValues => Values;

    /// <inheritdoc/>
    public override TEnum Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String && reader.GetString() is { } text && ValueOf.TryGetValue(text, out TEnum value))
        {
            return value;
        }

        throw new WireValueException(Values);
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, TEnum value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(NameOf.TryGetValue(value, out string? name) ? name : throw new JsonException($"{value} is not a {typeof(TEnum).Name} value."));
    }

    private static string WireName(TEnum value)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Names.Write(writer, value, NameOptions);
        }

        return JsonSerializer.Deserialize(buffer.WrittenSpan, SidecarJsonContext.Default.String)!;
    }
}

/// <summary>
/// A parameter holds a value outside a closed set (a <see cref="WireEnumConverter{TEnum}"/>). System.Text.Json sets
/// <see cref="JsonException.Path"/>; the error mapping answers -32602 with <see cref="Field"/> and <see cref="Sentence"/>.
/// </summary>
public sealed class WireValueException : JsonException
{
    /// <summary>Initializes a new instance of the <see cref="WireValueException"/> class.</summary>
    /// <param name="allowed">The allowed wire strings.</param>
    /// <param name="member">
    /// The member that holds the value inside the value at <see cref="JsonException.Path"/>, when a converter of an object
    /// reads it itself (<c>alg</c> of <c>dpop</c>); <see langword="null"/> when the value is at the path.
    /// </param>
    public WireValueException(IReadOnlyList<string> allowed, string? member = null)
        : base("The value is not one of " + string.Join(", ", allowed) + ".")
    {
        this.Allowed = allowed;
        this.Member = member;
    }

    /// <summary>Gets the allowed wire strings.</summary>
    public IReadOnlyList<string> Allowed { get; }

    /// <summary>Gets the member inside the value at <see cref="JsonException.Path"/> that holds the value, or <see langword="null"/>.</summary>
    public string? Member { get; }

    /// <summary>Gets the field path, e.g. <c>interactive</c> or <c>dpop.alg</c> (from <see cref="JsonException.Path"/> and <see cref="Member"/>).</summary>
    public string Field
    {
        get
        {
            string path = this.Path is { Length: > 1 } p ? p.TrimStart('$').TrimStart('.') : string.Empty;
            return this.Member is not { } member ? path : path.Length == 0 ? member : $"{path}.{member}";
        }
    }

    /// <summary>Gets the sentence for the caller, e.g. <c>interactive must be 'browser', 'device' or 'none'.</c></summary>
    public string Sentence
    {
        get
        {
            string[] quoted = [.. this.Allowed.Select(v => $"'{v}'")];
            string list = quoted.Length < 2 ? string.Concat(quoted) : string.Join(", ", quoted[..^1]) + " or " + quoted[^1];
            return $"The parameter '{this.Field}' must be {list}.";
        }
    }
}
