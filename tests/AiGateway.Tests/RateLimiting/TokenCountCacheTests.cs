using System.Text;
using AiGateway.Configuration;
using AiGateway.Model;
using AiGateway.RateLimiting;

namespace AiGateway.Tests.RateLimiting;

public sealed class TokenCountCacheTests
{
    private static readonly Caller s_alice = Caller("demo", "alice");
    private static readonly Caller s_bob = Caller("demo", "bob");

    [Fact]
    public void Counts_with_the_cache_equal_counts_without_it_on_every_turn_of_a_growing_conversation()
    {
        var counter = new TokenCounter();
        var uncached = new TokenCounter();
        var random = new Random(11);
        var history = new List<string> { "You are a concise assistant for agency staff. Answer in plain language and cite the directive." };
        for (var turn = 0; turn < 12; turn++)
        {
            history.Add(RandomText(random, random.Next(10, 3000)));
            var request = Chat(history);

            var first = counter.CountPrompt(request, Route("gpt-4o-mini"), s_alice);
            var again = counter.CountPrompt(request, Route("gpt-4o-mini"), s_alice);

            Assert.Equal(uncached.CountPrompt(request, Route("gpt-4o-mini")), first);
            Assert.Equal(first, again);
            Assert.Equal(uncached.CountPrompt(request, Route("gpt-4")), counter.CountPrompt(request, Route("gpt-4"), s_alice));
        }
    }

    [Fact]
    public void An_earlier_turn_is_looked_up_not_tokenized_again_and_only_for_the_same_caller()
    {
        var counter = new TokenCounter();
        var text = RandomText(new Random(3), 2000);
        var request = Chat([text]);
        var model = Route("gpt-4o-mini");
        var honest = counter.CountPrompt(request, model, s_alice);

        // Plant a different count under alice's key for this text: her next count must come from the cache…
        var aliceKey = TokenCountCache.Key(counter.Cache.Partition("demo", "alice", 1), text);
        Assert.True(counter.Cache.TryGet(aliceKey, out var cached));
        Assert.Equal(honest - 3 - 3, cached);
        counter.Cache.Set(aliceKey, 100_000);
        Assert.Equal(100_000 + 3 + 3, counter.CountPrompt(request, model, s_alice));

        // …while bob's count of the same text never sees alice's entry, and without a caller nothing is cached.
        Assert.Equal(honest, counter.CountPrompt(request, model, s_bob));
        Assert.Equal(honest, counter.CountPrompt(request, model));
        Assert.NotEqual(aliceKey, TokenCountCache.Key(counter.Cache.Partition("demo", "bob", 1), text));
        Assert.NotEqual(aliceKey, TokenCountCache.Key(counter.Cache.Partition("demo", "alice", 2), text));
        Assert.NotEqual(aliceKey, TokenCountCache.Key(counter.Cache.Partition("demoa", "lice", 1), text));
    }

    [Fact]
    public void Short_texts_are_not_cached_and_keys_differ_between_processes()
    {
        var counter = new TokenCounter();
        var shortText = new string('x', TokenCountCache.MinCharacters - 1);
        counter.CountPrompt(Chat([shortText]), Route("gpt-4o-mini"), s_alice);

        Assert.False(counter.Cache.TryGet(TokenCountCache.Key(counter.Cache.Partition("demo", "alice", 1), shortText), out _));
        Assert.NotEqual(counter.Cache.Partition("demo", "alice", 1), new TokenCounter().Cache.Partition("demo", "alice", 1));
    }

    private static string RandomText(Random random, int length)
    {
        string[] words = ["Budget", "figures", "for", "FY2027", "include", "procurement,", "R&D", "and", "operations;", "see", "annex", "B.", "Résumé", "naïve", "→", "東京", "42", "—", "\n"];
        var text = new StringBuilder();
        while (text.Length < length)
        {
            text.Append(words[random.Next(words.Length)]).Append(' ');
        }

        return text.ToString(0, length);
    }

    private static LlmRequest Chat(IReadOnlyList<string> messages) => new()
    {
        Endpoint = new ApiEndpoint(ApiDialect.OpenAI, ApiOperation.ChatCompletions, null),
        Model = "gpt-4o-mini",
        Segments = [.. messages.Select((m, i) => new TextSegment(SegmentSource.Message, i, i == 0 ? "system" : "user", m))],
    };

    private static Caller Caller(string agency, string subject) => new()
    {
        Agency = agency,
        SubjectId = subject,
        Kind = CallerKind.Person,
        Roles = ["analyst"],
        Issuer = "http://127.0.0.1/issuer",
    };

    private static ModelRoute Route(string name) => TokenAccountingTests.Route(name);
}
