using System.Text.Json;
using OAuthSidecar.Core;
using OAuthSidecar.Core.Diagnostics;
using OAuthSidecar.Rpc;
using OAuthSidecar.Rpc.Contracts;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;

namespace OAuthSidecar.Tests;

/// <summary>
/// In process: how failures become protocol errors (ErrorMapping, ParameterErrors, RequiredMembers). The parameter
/// objects are read with the options the JSON-RPC formatter uses, so the exceptions are System.Text.Json's own.
/// </summary>
public sealed class ErrorMappingTests
{
    private static readonly JsonSerializerOptions ReadOptions = RequiredMembers.Enforce(SidecarJsonContext.CreateOptions());

    [Theory]
    [InlineData(null, new string[0])]
    [InlineData("$", new string[0])]
    [InlineData("$.clientId", new[] { "clientId" })]
    [InlineData("$.tls.caBundlePath", new[] { "tls", "caBundlePath" })]
    [InlineData("$.scopes[1]", new[] { "scopes", "[1]" })]
    [InlineData("$.extraAuthParams['a b']", new[] { "extraAuthParams", "a b" })]
    [InlineData("$['x.y'].z", new[] { "x.y", "z" })]
    [InlineData("$.a[0][2].b", new[] { "a", "[0]", "[2]", "b" })]
    public void ParsePath_splits_System_Text_Json_paths(string? path, string[] expected)
    {
        Assert.Equal(expected, ParameterErrors.ParsePath(path));
    }

    [Theory]
    [InlineData("""{"issuer":"http://127.0.0.1:1"}""", "clientId", "Missing", "is required")]
    [InlineData("""{"issuer":"http://127.0.0.1:1","clientId":null}""", "clientId", "Missing", "is required")]
    [InlineData("""{"clientId":"a","serverConfiguration":{}}""", "serverConfiguration.tokenEndpoint", "Missing", "is required")]
    [InlineData("""{"clientId":5}""", "clientId", "WrongValue", "takes a string")]
    [InlineData("""{"clientId":"a","timeoutSeconds":"soon"}""", "timeoutSeconds", "WrongValue", "takes a number")]
    [InlineData("""{"clientId":"a","tls":7}""", "tls", "WrongValue", "takes an object")]
    [InlineData("""{"clientId":"a","tls":{"caBundlePath":7}}""", "tls.caBundlePath", "WrongValue", "takes a string")]
    [InlineData("""{"clientId":"a","scopes":"openid"}""", "scopes", "WrongValue", "takes an array")]
    [InlineData("""{"clientId":"a","scopes":["openid",5]}""", "scopes[1]", "WrongValue", "takes a string")]
    [InlineData("""{"clientId":"a","extraAuthParams":{"a b":5}}""", "extraAuthParams.a b", "WrongValue", "takes a string")]
    [InlineData("""{"clientId":"a","addAuthParamsToTokenRequest":"yes"}""", "addAuthParamsToTokenRequest", "WrongValue", "true or false")]
    [InlineData("""{"clientId":"a","clientSecrett":"x"}""", "clientSecrett", "Unknown", "is not known")]
    [InlineData("""{"clientId":"a","serverConfiguration":{"tokenEndpoint":"t","tokenEndpont":"u"}}""", "serverConfiguration.tokenEndpont", "Unknown", "is not known")]
    [InlineData("""["a"]""", "", "Whole", "one JSON object")]
    public void A_bad_parameter_object_is_described_by_its_field(string json, string field, string problem, string sentence)
    {
        JsonException failure = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize<CreateClientParams>(json, ReadOptions));

        (string actualField, ParameterErrors.Problem actualProblem, string message) = ParameterErrors.Describe(failure, typeof(CreateClientParams));

        Assert.Equal(field, actualField);
        Assert.Equal(problem, actualProblem.ToString());
        Assert.Contains(sentence, message, StringComparison.Ordinal);
        if (field.Length > 0)
        {
            Assert.Contains($"'{field}'", message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Without_the_parameter_type_the_field_still_comes_from_the_path()
    {
        JsonException failure = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize<CreateClientParams>("""{"clientId":"a","tls":{"caBundlePath":7}}""", ReadOptions));

        (string field, ParameterErrors.Problem problem, string message) = ParameterErrors.Describe(failure, null);

        Assert.Equal("tls.caBundlePath", field);
        Assert.Equal(ParameterErrors.Problem.WrongValueOrUnknown, problem);
        Assert.Contains("'tls.caBundlePath'", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Required_members_are_checked_by_wire_name_and_valid_objects_still_read()
    {
        var missing = Assert.Throws<MissingRequiredMemberException>(() => JsonSerializer.Deserialize<CancelRequestParams>("{}", ReadOptions));
        Assert.Equal("id", missing.Member);
        Assert.Equal("$", missing.Path);

        var nested = Assert.Throws<MissingRequiredMemberException>(() => JsonSerializer.Deserialize<CreateClientParams>("""{"clientId":"a","serverConfiguration":{"issuer":"i"}}""", ReadOptions));
        Assert.Equal("tokenEndpoint", nested.Member);
        Assert.Equal("$.serverConfiguration", nested.Path);

        CreateClientParams ok = JsonSerializer.Deserialize<CreateClientParams>("""{"clientId":"a","serverConfiguration":{"tokenEndpoint":"t"}}""", ReadOptions)!;
        Assert.Equal("a", ok.ClientId);
        Assert.Equal("t", ok.ServerConfiguration!.TokenEndpoint);
        Assert.Equal(7, JsonSerializer.Deserialize<CancelRequestParams>("""{"id":7}""", ReadOptions)!.Id.GetInt32());
    }

    [Fact]
    public void The_schema_options_keep_their_required_lists()
    {
        // RequiredMembers changes the formatter's options only: the schema generator's metadata still says required.
        var info = SidecarJsonContext.WireOptions.GetTypeInfo(typeof(CreateClientParams));
        Assert.True(info.Properties.Single(p => p.Name == "clientId").IsRequired);
    }

    [Fact]
    public void The_method_names_its_parameter_type()
    {
        Assert.Equal(typeof(CreateClientParams), ParameterErrors.ParametersOf("createClient"));
        Assert.Equal(typeof(WaitForCallbackParams), ParameterErrors.ParametersOf("waitForCallback"));
        Assert.Null(ParameterErrors.ParametersOf("noSuchMethod"));
        Assert.Null(ParameterErrors.ParametersOf(null));
    }

    [Fact]
    public void A_JSON_failure_is_minus_32602_with_the_field_in_data_and_in_the_sentence()
    {
        JsonException failure = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize<CreateClientParams>("""{"clientId":"a","tls":{"caBundlePath":7}}""", ReadOptions));

        JsonRpcError.ErrorDetail detail = ErrorMapping.ToErrorDetail(failure, new SecretRedactor(), "createClient");

        Assert.Equal(ErrorCodes.InvalidParams, (int)detail.Code);
        Assert.Equal("tls.caBundlePath", Assert.IsType<InvalidParamsData>(detail.Data).Field);
        Assert.Contains("'tls.caBundlePath' has the wrong type", detail.Message, StringComparison.Ordinal);
        Assert.False(ErrorMapping.IsUnexpected(failure));
    }

    [Fact]
    public void A_JSON_failure_wrapped_by_StreamJsonRpc_is_unwrapped()
    {
        JsonException failure = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize<CreateClientParams>("""{"clientId":"a","nope":1}""", ReadOptions));
        var wrapped = new RpcArgumentDeserializationException("parameters", 0, typeof(CreateClientParams), failure);

        JsonRpcError.ErrorDetail detail = ErrorMapping.ToErrorDetail(wrapped, new SecretRedactor(), "createClient");

        Assert.Equal(ErrorCodes.InvalidParams, (int)detail.Code);
        Assert.Equal("nope", Assert.IsType<InvalidParamsData>(detail.Data).Field);
        Assert.Contains("is not known", detail.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Expected_failures_get_their_codes_and_data_and_secrets_are_redacted()
    {
        var redactor = new SecretRedactor();
        redactor.Register("s3cret-value-123");

        JsonRpcError.ErrorDetail invalid = ErrorMapping.ToErrorDetail(new InvalidOptionException("callback.timeoutSeconds", "callback.timeoutSeconds must be above 0, not s3cret-value-123."), redactor);
        Assert.Equal(ErrorCodes.InvalidParams, (int)invalid.Code);
        Assert.Equal("callback.timeoutSeconds", Assert.IsType<InvalidParamsData>(invalid.Data).Field);
        Assert.DoesNotContain("s3cret-value-123", invalid.Message, StringComparison.Ordinal);

        JsonRpcError.ErrorDetail timeout = ErrorMapping.ToErrorDetail(new FlowTimeoutException("f_1", 2.5, "No callback arrived."), redactor);
        Assert.Equal(ErrorCodes.Timeout, (int)timeout.Code);
        TimeoutData data = Assert.IsType<TimeoutData>(timeout.Data);
        Assert.Equal(("f_1", 2.5), (data.FlowId, data.TimeoutSeconds));

        JsonRpcError.ErrorDetail listen = ErrorMapping.ToErrorDetail(new ListenFailedException("127.0.0.1", 8080, "Port 8080 is in use."), redactor);
        Assert.Equal(ErrorCodes.ListenFailed, (int)listen.Code);
        Assert.Equal(8080, Assert.IsType<ListenFailedData>(listen.Data).Port);

        JsonRpcError.ErrorDetail none = ErrorMapping.ToErrorDetail(new ArgumentNullException("parameters"), redactor);
        Assert.Equal(ErrorCodes.InvalidParams, (int)none.Code);
        Assert.Equal(string.Empty, Assert.IsType<InvalidParamsData>(none.Data).Field);
    }

    [Fact]
    public void A_bug_is_an_internal_error_without_a_stack_trace()
    {
        var bug = new InvalidOperationException("the list was modified");

        JsonRpcError.ErrorDetail detail = ErrorMapping.ToErrorDetail(bug, new SecretRedactor());

        Assert.True(ErrorMapping.IsUnexpected(bug));
        Assert.Equal(ErrorCodes.InternalError, (int)detail.Code);
        Assert.Contains("InvalidOperationException", detail.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", detail.Message, StringComparison.Ordinal);
        Assert.Null(detail.Data);
    }

    [Fact]
    public void StreamJsonRpc_s_own_errors_are_rewritten_by_code_and_mapped_ones_are_left_alone()
    {
        JsonRpcError notFound = Error(JsonRpcErrorCode.MethodNotFound, "Unable to find method 'signInPlease/0' on {no object} for the following reasons: ...");
        ErrorMapping.RewriteTransportError(notFound, "signInPlease");
        Assert.Equal("The method 'signInPlease' does not exist. The methods are listed in PROTOCOL.md and in schema/oauth-sidecar.openrpc.json (oauth-sidecar schema).", notFound.Error!.Message);

        JsonRpcError cancelled = Error(JsonRpcErrorCode.RequestCanceled, "any text at all");
        ErrorMapping.RewriteTransportError(cancelled, "waitForCallback");
        Assert.Contains("$/cancelRequest", cancelled.Error!.Message, StringComparison.Ordinal);

        JsonRpcError positional = Error(JsonRpcErrorCode.InvalidParams, "Unable to find method ...");
        ErrorMapping.RewriteTransportError(positional, "waitForCallback");
        Assert.Equal(string.Empty, Assert.IsType<InvalidParamsData>(positional.Error!.Data).Field);
        Assert.Contains("one JSON object", positional.Error.Message, StringComparison.Ordinal);

        // cancelFlow's own -32800 (a mapped error) keeps its sentence.
        var mapped = new JsonRpcError { Error = ErrorMapping.ToErrorDetail(new FlowCancelledException("f_9"), new SecretRedactor()) };
        string sentence = mapped.Error.Message!;
        ErrorMapping.RewriteTransportError(mapped, "waitForCallback");
        Assert.Equal(sentence, mapped.Error.Message);
    }

    private static JsonRpcError Error(JsonRpcErrorCode code, string message) =>
        new() { Error = new JsonRpcError.ErrorDetail { Code = code, Message = message } };
}
