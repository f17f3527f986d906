using AiGateway.Model;

namespace AiGateway.Tests.Model;

public sealed class UuidTests
{
    [Fact]
    public void Version7_carries_the_timestamp_version_and_variant()
    {
        var at = DateTimeOffset.Parse("2026-11-23T21:06:29.123Z", System.Globalization.CultureInfo.InvariantCulture);
        var id = Uuid.NewVersion7(at);
        var reference = Guid.CreateVersion7(at);

        Assert.Equal(7, id.Version);
        Assert.Equal(0x8, id.Variant & 0xC); // RFC 9562 variant 10xx
        Assert.Equal(reference.Variant & 0xC, id.Variant & 0xC);
        Assert.Equal(reference.ToString()[..13], id.ToString()[..13]); // 48-bit milliseconds and the version digit
    }

    [Fact]
    public void Ids_do_not_repeat_across_buffer_refills_and_threads()
    {
        var ids = new System.Collections.Concurrent.ConcurrentBag<Guid>();
        var hex = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 8, _ =>
        {
            for (var i = 0; i < 2_000; i++) // 2 000 × 26 bytes: several 4 KiB refills per thread
            {
                ids.Add(Uuid.NewVersion7(DateTimeOffset.UnixEpoch));
                hex.Add(Uuid.NewHex());
            }
        });

        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(hex.Count, hex.Distinct().Count());
        Assert.All(hex, h => Assert.Matches("^[0-9a-f]{32}$", h));
    }
}
