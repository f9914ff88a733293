using System.Text.Json;
using System.Text.Json.Nodes;
using OAuthSidecar.Rpc;
using OAuthSidecar.Rpc.Contracts;

namespace OAuthSidecar.Tests.InProcess;

/// <summary>
/// The closed sets of the contract (storage backend, interaction mode, client authentication method, response mode,
/// callback scheme, assertion grant type, PAR mode, DPoP algorithm): their wire strings, the schema's <c>enum</c>s, and -32602 naming the field
/// and the allowed values for anything else, in process.
/// </summary>
public sealed class ContractEnumTests
{
    private static readonly object ExplicitServer = new { issuer = "https://idp.test", tokenEndpoint = "https://idp.test/token", authorizationEndpoint = "https://idp.test/authorize" };

    public static TheoryData<string, string, string> UnknownValues => new()
    {
        { "getCredentials", "interactive", "'auto', 'browser', 'device', 'paste' or 'none'" },
        { "createClient", "storage", "'keyring', 'file' or 'memory'" },
        { "createClient", "par", "'auto', 'always' or 'never'" },
        { "createClient", "tokenEndpointAuthMethod", "'client_secret_basic', 'client_secret_post', 'none' or 'private_key_jwt'" },
        { "initiateAuthCodeFlow", "responseMode", "'query' or 'form_post'" },
        { "startCallbackServer", "scheme", "'https' or 'http'" },
        { "obtainTokenByAssertion", "grantType", "'urn:ietf:params:oauth:grant-type:jwt-bearer' or 'urn:ietf:params:oauth:grant-type:saml2-bearer'" },
        { "initialize", "storage", "'keyring', 'file' or 'memory'" },
    };

    [Theory]
    [MemberData(nameof(UnknownValues))]
    public async Task An_unknown_value_gets_invalid_params_naming_the_field_and_the_allowed_values(string method, string field, string allowed)
    {
        await using InProcessSidecar sidecar = await InProcessSidecar.StartAsync();
        string handle = (await sidecar.CallAsync("createClient", new { clientId = "native-app", serverConfiguration = ExplicitServer }))["result"]!["clientHandle"]!.GetValue<string>();
        JsonObject parameters = method switch
        {
            "getCredentials" => new() { ["clientHandle"] = handle },
            "createClient" => new() { ["clientId"] = "app", ["serverConfiguration"] = JsonSerializer.SerializeToNode(ExplicitServer) },
            "initiateAuthCodeFlow" => new() { ["clientHandle"] = handle, ["openBrowser"] = false },
            "obtainTokenByAssertion" => new() { ["clientHandle"] = handle, ["assertion"] = "a.b.c" },
            _ => [],
        };

        foreach (JsonNode bad in new JsonNode[] { "Browser", "", 1, new JsonArray("none") })
        {
            parameters[field] = bad.DeepClone();
            JsonObject error = (await sidecar.CallAsync(method, parameters))["error"]!.AsObject();

            Assert.Equal(-32602, error["code"]!.GetValue<int>());
            Assert.Equal(field, error["data"]!["field"]!.GetValue<string>());
            Assert.Equal($"The parameter '{field}' must be {allowed}.", error["message"]!.GetValue<string>());
        }

        Assert.Empty(sidecar.Stub.Requests);
    }

    [Fact]
    public async Task A_known_value_is_accepted()
    {
        await using InProcessSidecar sidecar = await InProcessSidecar.StartAsync();
        JsonObject created = await sidecar.CallAsync("createClient", new { clientId = "native-app", serverConfiguration = ExplicitServer, storage = "memory", tokenEndpointAuthMethod = "none" });
        string handle = created["result"]!["clientHandle"]!.GetValue<string>();

        JsonObject none = (await sidecar.CallAsync("getCredentials", new { clientHandle = handle, interactive = "none" }))["error"]!.AsObject();
        Assert.Equal(-32008, none["code"]!.GetValue<int>());
        JsonObject flow = (await sidecar.CallAsync("initiateAuthCodeFlow", new { clientHandle = handle, openBrowser = false, responseMode = "form_post" }))["result"]!.AsObject();
        Assert.Contains("response_mode=form_post", flow["authUri"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_member_is_written_as_its_wire_string_and_read_back()
    {
        AssertRoundTrip(new[] { "keyring", "file", "memory" }, Enum.GetValues<StorageBackendDto>());
        AssertRoundTrip(new[] { "auto", "browser", "device", "paste", "none" }, Enum.GetValues<InteractionModeDto>());
        AssertRoundTrip(new[] { "stored", "refresh", "browser", "device", "paste" }, Enum.GetValues<SignInMethodDto>());
        AssertRoundTrip(new[] { "client_secret_basic", "client_secret_post", "none", "private_key_jwt" }, Enum.GetValues<TokenEndpointAuthMethodDto>());
        AssertRoundTrip(new[] { "query", "form_post" }, Enum.GetValues<ResponseModeDto>());
        AssertRoundTrip(new[] { "https", "http" }, Enum.GetValues<CallbackSchemeDto>());
        AssertRoundTrip(new[] { "urn:ietf:params:oauth:grant-type:jwt-bearer", "urn:ietf:params:oauth:grant-type:saml2-bearer" }, Enum.GetValues<AssertionGrantTypeDto>());
        AssertRoundTrip(new[] { "auto", "always", "never" }, Enum.GetValues<ParModeDto>());
        AssertRoundTrip(new[] { "ES256", "ES384", "ES512", "RS256", "PS256", "EdDSA" }, Enum.GetValues<DpopAlgorithmDto>());
    }

    [Fact]
    public void Dpop_is_a_boolean_or_an_object_whose_alg_is_one_of_the_algorithms()
    {
        var info = SidecarJsonContext.Default.DpopSetting;
        Assert.Equal((true, (DpopAlgorithmDto?)null), Read("true"));
        Assert.Equal((false, (DpopAlgorithmDto?)null), Read("false"));
        Assert.Equal((true, (DpopAlgorithmDto?)null), Read("{}"));
        Assert.Equal((true, (DpopAlgorithmDto?)null), Read("""{"alg":null}"""));
        Assert.Equal((true, DpopAlgorithmDto.PS256), Read("""{"alg":"PS256"}"""));
        Assert.Equal((true, DpopAlgorithmDto.EdDSA), Read("""{"alg":"EdDSA"}"""));
        Assert.Equal("""{"alg":"RS256"}""", JsonSerializer.Serialize(new DpopSetting { Enabled = true, Alg = DpopAlgorithmDto.RS256 }, info));
        Assert.Equal("true", JsonSerializer.Serialize(new DpopSetting { Enabled = true }, info));

        WireValueException lower = Assert.Throws<WireValueException>(() => Read("""{"alg":"es256"}"""));
        Assert.Equal("alg", lower.Member);
        Assert.Equal(["ES256", "ES384", "ES512", "RS256", "PS256", "EdDSA"], lower.Allowed);
        Assert.Equal("alg", Assert.Throws<WireValueException>(() => Read("""{"alg":"eddsa"}""")).Member);
        Assert.Throws<JsonException>(() => Read("""{"algorithm":"ES256"}"""));
        Assert.Throws<JsonException>(() => Read("\"ES256\""));

        (bool, DpopAlgorithmDto?) Read(string json)
        {
            DpopSetting setting = JsonSerializer.Deserialize(json, info)!;
            return (setting.Enabled, setting.Alg);
        }
    }

    [Fact]
    public void The_schema_lists_the_values_of_every_enum()
    {
        JsonObject schemas = JsonNode.Parse(SchemaGenerator.Generate())!["components"]!["schemas"]!.AsObject();

        Assert.Equal(["auto", "browser", "device", "paste", "none"], schemas["InteractionMode"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal(["keyring", "file", "memory"], schemas["StorageBackend"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal(["client_secret_basic", "client_secret_post", "none", "private_key_jwt"], schemas["TokenEndpointAuthMethod"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal(["query", "form_post"], schemas["ResponseMode"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal(["stored", "refresh", "browser", "device", "paste"], schemas["SignInMethod"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal(["auto", "always", "never"], schemas["ParMode"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal(["ES256", "ES384", "ES512", "RS256", "PS256", "EdDSA"], schemas["DpopAlgorithm"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal("#/components/schemas/DpopAlgorithm", schemas["DpopOptions"]!["properties"]!["alg"]!["oneOf"]![0]!["$ref"]!.GetValue<string>());
        Assert.Equal(["boolean", "#/components/schemas/DpopOptions"], schemas["DpopSetting"]!["oneOf"]!.AsArray().Select(m => (m!["type"] ?? m["$ref"])!.GetValue<string>()));
        Assert.Equal("InteractionMode", schemas["InteractionMode"]!["title"]!.GetValue<string>());
    }

    private static void AssertRoundTrip<TEnum>(string[] wire, TEnum[] values)
        where TEnum : struct, Enum
    {
        var info = (System.Text.Json.Serialization.Metadata.JsonTypeInfo<TEnum>)SidecarJsonContext.WireOptions.GetTypeInfo(typeof(TEnum));
        Assert.Equal(wire, values.Select(v => JsonSerializer.Deserialize(JsonSerializer.Serialize(v, info), SidecarJsonContext.Default.String)));
        Assert.Equal(values, wire.Select(w => JsonSerializer.Deserialize($"\"{w}\"", info)));
        string upper = wire[0].ToUpperInvariant();
        string otherCase = string.Equals(upper, wire[0], StringComparison.Ordinal) ? wire[0].ToLowerInvariant() : upper;
        WireValueException error = Assert.Throws<WireValueException>(() => JsonSerializer.Deserialize($"\"{otherCase}\"", info));
        Assert.Equal(wire, error.Allowed);
    }
}
