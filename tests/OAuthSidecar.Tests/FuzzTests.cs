using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using OAuthSidecar.Tests.Infrastructure;

namespace OAuthSidecar.Tests;

/// <summary>
/// Hostile JSON-RPC, bounded in time: random bytes, huge and absurd lengths, partial frames, deep nesting, and every
/// parameter of every method (from the schema) with a wrong type or missing. Each bad message gets its JSON-RPC
/// error; the process keeps serving and its memory stays bounded. A longer run: FUZZ_ITERATIONS=20000.
/// </summary>
public sealed class FuzzTests
{
    private static readonly int Iterations = int.TryParse(Environment.GetEnvironmentVariable("FUZZ_ITERATIONS"), out int n) ? n : 400;

    // components.schemas of the document, for $ref.
    private static JsonObject Components = [];

    [Fact]
    public async Task Every_parameter_of_every_method_with_a_wrong_type_or_missing_gets_invalid_params_naming_it()
    {
        JsonObject schema = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "schema", "oauth-sidecar.openrpc.json")))!.AsObject();
        Components = schema["components"]!["schemas"]!.AsObject();
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync();
        int checkedParams = 0;
        foreach (JsonNode? method in schema["methods"]!.AsArray())
        {
            string name = method.Str("name");
            if (method!["x-direction"] is not null || method["x-notification"] is not null || name is "shutdown" or "initialize")
            {
                continue;
            }

            JsonObject valid = ValidParams(method["params"]!.AsArray());
            foreach (JsonNode? parameter in method["params"]!.AsArray())
            {
                string field = parameter.Str("name");
                JsonNode? wrong = WrongValue(parameter!["schema"]);
                if (wrong is null)
                {
                    continue; // accepts anything (e.g. a JSON value)
                }

                JsonObject bad = (JsonObject)valid.DeepClone();
                bad[field] = wrong;
                RpcError error = await sidecar.CallExpectingErrorAsync(name, bad);
                Assert.True(error.Code == -32602, $"{name}.{field} = {wrong.ToJsonString()}: {error.Code} {error.Message}");
                Assert.StartsWith(field, error.DataString("field"), StringComparison.Ordinal);
                checkedParams++;

                if (parameter!["required"]!.GetValue<bool>())
                {
                    JsonObject missing = (JsonObject)valid.DeepClone();
                    missing.Remove(field);
                    RpcError absent = await sidecar.CallExpectingErrorAsync(name, missing);
                    Assert.Equal(-32602, absent.Code);
                    Assert.Equal(field, absent.DataString("field"));
                }
            }
        }

        Assert.True(checkedParams > 60, $"only {checkedParams} parameters were checked");
        Assert.Equal("1.1", (await sidecar.CallAsync("initialize", new { }))!.Str("protocolVersion"));
    }

    [Fact]
    public async Task Random_frames_never_stop_the_process_and_memory_stays_bounded()
    {
        var random = new Random(20261126);
        await using SidecarProcess sidecar = await SidecarProcess.StartAsync("--max-message-bytes", "65536");
        for (int i = 0; i < Iterations; i++)
        {
            byte[] payload = (i % 6) switch
            {
                0 => RandomBytes(random, random.Next(1, 300)),
                1 => Encoding.UTF8.GetBytes(RandomJsonish(random)),
                2 => Encoding.UTF8.GetBytes(new string('[', random.Next(65, 5000)) + new string(']', random.Next(0, 10))),
                3 => Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"id\":" + random.Next() + ",\"method\":\"" + RandomWord(random) + "\",\"params\":" + RandomJsonish(random) + "}"),
                4 => Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"method\":\"$/cancelRequest\",\"params\":{\"id\":" + random.Next() + "}}"),
                _ => Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"id\":\"s" + i + "\",\"method\":\"waitForCallback\",\"params\":" + RandomJsonish(random) + "}"),
            };
            await sidecar.WriteRawAsync([.. Encoding.ASCII.GetBytes($"Content-Length: {payload.Length}\r\n\r\n"), .. payload]);
        }

        // A message over the limit is refused and skipped without being buffered, and serving resumes after it.
        byte[] big = new byte[3 * 1024 * 1024];
        random.NextBytes(big);
        await sidecar.WriteRawAsync([.. Encoding.ASCII.GetBytes($"Content-Length: {big.Length}\r\n\r\n"), .. big]);
        Assert.Equal("1.1", (await sidecar.CallAsync("initialize", new { }, TimeSpan.FromSeconds(120)))!.Str("protocolVersion"));
        Assert.Contains(sidecar.Unmatched, m => m["error"]?["code"]?.GetValue<int>() == -32600 && m["error"].Str("message").Contains("limit", StringComparison.Ordinal));
        Assert.False(sidecar.HasExited);
        Assert.True(ResidentMegabytes(sidecar.ProcessId) < 250, $"resident memory {ResidentMegabytes(sidecar.ProcessId)} MB after the fuzz");
    }

    [Fact]
    public async Task Partial_frames_and_an_absurd_length_are_answered_without_a_crash()
    {
        await using (SidecarProcess partial = await SidecarProcess.StartAsync())
        {
            await partial.WriteRawAsync(Encoding.ASCII.GetBytes("Content-Length: 50\r\n\r\n{\"jsonrpc\":\"2.0\""));
            partial.CloseStdin(); // the frame never completes: end of input
            Assert.Equal(0, await partial.WaitForExitAsync(TimeSpan.FromSeconds(10)));
            JsonObject error = await partial.WaitForUnmatchedAsync(1);
            Assert.Equal(-32700, error["error"]!["code"]!.GetValue<int>());
        }

        await using SidecarProcess absurd = await SidecarProcess.StartAsync();
        await absurd.WriteRawAsync(Encoding.ASCII.GetBytes("Content-Length: 999999999999999\r\n\r\n{}"));
        JsonObject refused = await absurd.WaitForUnmatchedAsync(1);
        Assert.Equal(-32600, refused["error"]!["code"]!.GetValue<int>());
        Assert.False(absurd.HasExited);
        Assert.True(ResidentMegabytes(absurd.ProcessId) < 250);
    }

    private static JsonObject ValidParams(JsonArray parameters)
    {
        var result = new JsonObject();
        foreach (JsonNode? p in parameters)
        {
            if (p!["required"]!.GetValue<bool>())
            {
                result[p.Str("name")] = Example(p["schema"]);
            }
        }

        return result;
    }

    private static JsonNode? Example(JsonNode? schema)
    {
        schema = Resolve(schema);
        if (schema?["enum"] is JsonArray values)
        {
            return values[0]!.DeepClone();
        }

        string? type = TypeOf(schema);
        return type switch
        {
            "string" => "f_example",
            "integer" or "number" => 1,
            "boolean" => true,
            "array" => new JsonArray("openid"),
            "object" => ValidObject(schema!),
            _ => "x",
        };
    }

    private static JsonObject ValidObject(JsonNode schema)
    {
        var o = new JsonObject();
        if (schema["properties"] is JsonObject props && schema["required"] is JsonArray required)
        {
            foreach (JsonNode? r in required)
            {
                o[r!.GetValue<string>()] = Example(props[r.GetValue<string>()]);
            }
        }

        return o;
    }

    private static JsonNode? WrongValue(JsonNode? schema) => TypeOf(schema) switch
    {
        "string" => 12345,
        "integer" or "number" => "not-a-number",
        "boolean" => "yes",
        "array" => 7,
        "object" => "an-object-was-expected",
        _ => null,
    };

    private static string? TypeOf(JsonNode? schema) => Resolve(schema)?["type"] is JsonValue v ? v.GetValue<string>() : null;

    // Follows "$ref": "#/components/schemas/X" and takes the non-null member of oneOf [X, null].
    private static JsonNode? Resolve(JsonNode? schema)
    {
        while (true)
        {
            if (schema?["$ref"] is JsonValue reference)
            {
                schema = Components[reference.GetValue<string>()["#/components/schemas/".Length..]];
            }
            else if (schema?["oneOf"] is JsonArray members && members.Count == 2 && members.Count(m => m?["type"]?.GetValue<string>() == "null") == 1)
            {
                schema = members.First(m => m?["type"]?.GetValue<string>() != "null");
            }
            else
            {
                return schema;
            }
        }
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        byte[] bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static string RandomWord(Random random) =>
        new[] { "initialize", "createClient", "waitForCallback", "refresh", "getCredentials", "parseAuthResponse", "nope", "$/x", "", "\u0000", "obtainTokenByAuthCodeFlow" }[random.Next(11)];

    private static string RandomJsonish(Random random)
    {
        string[] pieces = ["{", "}", "[", "]", "\"a\"", ":", ",", "1", "-0.5e99", "null", "true", "\"flowId\"", "\"\\ud800\"", "\"é\"", "{\"flowId\":\"f_x\"}", "{\"clientHandle\":5}", "[1,2]"];
        var sb = new StringBuilder();
        int count = random.Next(1, 30);
        for (int i = 0; i < count; i++)
        {
            sb.Append(pieces[random.Next(pieces.Length)]);
        }

        return sb.ToString();
    }

    private static double ResidentMegabytes(int pid)
    {
        string status = File.ReadAllText($"/proc/{pid}/status");
        string line = status.Split('\n').First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024;
    }
}
