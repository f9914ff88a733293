using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Tests;

public class PkceTests
{
    private static bool IsUnreserved(char c) =>
        c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '.' or '_' or '~';

    [Fact]
    public void CreateCodeChallenge_matches_RFC7636_appendix_B()
    {
        string challenge = Pkce.CreateCodeChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");

        Assert.Equal("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", challenge);
    }

    [Fact]
    public void MethodS256_is_the_protocol_value()
    {
        Assert.Equal("S256", Pkce.MethodS256);
    }

    [Fact]
    public void CreateCodeVerifier_gives_43_unreserved_characters()
    {
        string verifier = Pkce.CreateCodeVerifier();

        Assert.Equal(43, verifier.Length);
        Assert.All(verifier, c => Assert.True(IsUnreserved(c), $"'{c}' is not in the unreserved set"));
    }

    [Fact]
    public void CreateCodeVerifier_differs_between_calls()
    {
        var verifiers = Enumerable.Range(0, 50).Select(_ => Pkce.CreateCodeVerifier()).ToHashSet(StringComparer.Ordinal);

        Assert.Equal(50, verifiers.Count);
    }

    [Fact]
    public void CreateCodeVerifier_output_is_accepted_by_CreateCodeChallenge()
    {
        string challenge = Pkce.CreateCodeChallenge(Pkce.CreateCodeVerifier());

        Assert.Equal(43, challenge.Length); // SHA-256 = 32 bytes, base64url without padding
        Assert.DoesNotContain('=', challenge);
    }

    [Theory]
    [InlineData(42)]
    [InlineData(0)]
    [InlineData(129)]
    [InlineData(500)]
    public void CreateCodeChallenge_rejects_verifiers_outside_43_to_128(int length)
    {
        var ex = Assert.Throws<ArgumentException>(() => Pkce.CreateCodeChallenge(new string('a', length)));

        Assert.Equal("codeVerifier", ex.ParamName);
    }

    [Theory]
    [InlineData(43)]
    [InlineData(128)]
    public void CreateCodeChallenge_accepts_the_bounds(int length)
    {
        string challenge = Pkce.CreateCodeChallenge(new string('a', length));

        Assert.Equal(43, challenge.Length);
    }

    [Fact]
    public void CreateCodeChallenge_rejects_null()
    {
        Assert.Throws<ArgumentNullException>(() => Pkce.CreateCodeChallenge(null!));
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(16, 22)]
    [InlineData(32, 43)]
    [InlineData(64, 86)]
    [InlineData(100, 134)] // above 64 bytes the buffer comes from the heap
    public void ProtocolRandom_Create_gives_unpadded_base64url_of_the_expected_length(int bytes, int expectedLength)
    {
        string value = ProtocolRandom.Create(bytes);

        Assert.Equal(expectedLength, value.Length);
        Assert.All(value, c => Assert.True(c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_', $"'{c}' is not base64url"));
    }

    [Fact]
    public void ProtocolRandom_Create_differs_between_calls()
    {
        Assert.NotEqual(ProtocolRandom.Create(16), ProtocolRandom.Create(16));
    }
}
