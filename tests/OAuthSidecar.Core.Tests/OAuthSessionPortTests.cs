using OAuthSidecar.Core.Loopback;
using OAuthSidecar.Core.OAuth;

namespace OAuthSidecar.Core.Tests;

public class OAuthSessionPortTests
{
    [Theory]
    [InlineData("http://127.0.0.1:0/callback", true)]
    [InlineData("http://127.0.0.1:5000/callback", true)]
    [InlineData("http://127.0.0.1:80/callback", true)]
    [InlineData("https://127.0.0.1:443/callback", true)]
    [InlineData("http://127.0.0.1/callback", false)]
    [InlineData("http://127.0.0.1", false)]
    [InlineData("http://localhost/callback", false)]
    [InlineData("http://localhost:8400/callback", true)]
    [InlineData("http://[::1]:0/cb?x=1", true)]
    [InlineData("http://[::1]/cb", false)]
    [InlineData("http://127.0.0.1?x=a:b", false)]
    public void HasExplicitPort(string redirect, bool expected)
    {
        Assert.Equal(expected, RedirectUris.HasExplicitPort(new Uri(redirect)));
    }

    [Theory]
    [InlineData("http://127.0.0.1:0/callback", "http://127.0.0.1:5000/callback")]
    [InlineData("http://127.0.0.1/callback", "http://127.0.0.1:5000/callback")]
    [InlineData("http://[::1]:0/cb?x=1", "http://[::1]:5000/cb?x=1")]
    [InlineData("http://[::1]/cb", "http://[::1]:5000/cb")]
    [InlineData("http://localhost/callback", "http://localhost:5000/callback")]
    [InlineData("http://localhost:0/callback#frag", "http://localhost:5000/callback#frag")]
    [InlineData("http://127.0.0.1", "http://127.0.0.1:5000")]
    [InlineData("http://127.0.0.1?x=a:b", "http://127.0.0.1:5000?x=a:b")]
    [InlineData("https://127.0.0.1:0/a/b/c?q=%2F", "https://127.0.0.1:5000/a/b/c?q=%2F")]
    public void WithPort_replaces_or_adds_the_port_and_keeps_the_rest(string redirect, string expected)
    {
        Assert.Equal(expected, RedirectUris.WithPort(redirect, new Uri(redirect), 5000));
    }
}
