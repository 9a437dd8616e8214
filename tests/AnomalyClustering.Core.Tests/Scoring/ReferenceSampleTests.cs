using AnomalyClustering.Core.Scoring;
using AnomalyClustering.Core.Validation;

namespace AnomalyClustering.Core.Tests.Scoring;

public class ReferenceSampleTests
{
    [Fact]
    public void ReproducesThePoolsOfTheIndependentPythonImplementation()
    {
        foreach (var entry in ScoringFixtures.Meta.GetProperty("pools").EnumerateArray())
        {
            var sample = ReferenceSample.Draw(entry.GetProperty("images").GetInt32(), entry.GetProperty("references").GetInt32(), ulong.Parse(entry.GetProperty("seed").GetString()!));
            Assert.Equal(entry.GetProperty("effective").GetInt32(), sample.ReferenceCount);
            Assert.Equal(entry.GetProperty("pool").EnumerateArray().Select(p => p.GetInt32()), sample.Pool);
        }
    }

    [Theory]
    [InlineData(10, 3, 0UL)]
    [InlineData(50, 7, 123UL)]
    [InlineData(8, 7, 9UL)]
    [InlineData(2, 1, 1UL)]
    public void GivesEveryImageRDistinctOtherImagesFromThePool(int images, int references, ulong seed)
    {
        var sample = ReferenceSample.Draw(images, references, seed);
        Assert.Equal(Math.Min(references + 1, images), sample.Pool.Count);
        Assert.Equal(sample.Pool.Count, sample.Pool.Distinct().Count());
        Assert.All(sample.Pool, p => Assert.InRange(p, 0, images - 1));
        for (var i = 0; i < images; i++)
        {
            var refs = sample.ReferencesFor(i);
            Assert.Equal(references, refs.Length);
            Assert.Equal(references, refs.Distinct().Count());
            Assert.DoesNotContain(i, refs);
            Assert.All(refs, r => Assert.Contains(r, sample.Pool));
            Assert.Equal(refs.Order(), refs);
        }
    }

    [Fact]
    public void ZeroOrAtLeastNMinusOneReferencesIsExact()
    {
        foreach (var references in new[] { 0, 5, 6, 100 })
        {
            var sample = ReferenceSample.Draw(6, references, 77);
            Assert.True(sample.IsExact);
            Assert.Equal(5, sample.ReferenceCount);
            Assert.Equal([0, 1, 2, 4, 5], sample.ReferencesFor(3));
        }
        Assert.False(ReferenceSample.Draw(6, 4, 77).IsExact);
    }

    [Fact]
    public void PoolMembershipIsUniform()
    {
        // Each of 10 images should be in a pool of 4 with probability 0.4; 4000 seeds give about 1600 +- 31 each.
        var counts = new int[10];
        for (var seed = 0UL; seed < 4000; seed++)
        {
            foreach (var p in ReferenceSample.Draw(10, 3, seed).Pool)
            {
                counts[p]++;
            }
        }
        Assert.All(counts, c => Assert.InRange(c, 1600 - 160, 1600 + 160));
    }

    [Fact]
    public void RejectsFewerThanTwoImagesAndNegativeCounts()
    {
        Assert.Throws<InvalidClusteringInputException>(() => ReferenceSample.Draw(1, 0, 0));
        Assert.Throws<InvalidClusteringInputException>(() => ReferenceSample.Draw(5, -1, 0));
    }

    [Theory]
    [InlineData(20, 3, 0UL)]
    [InlineData(1000, 16, 42UL)]
    [InlineData(5, 4, 7UL)]
    public void TheDrawingOrderStartsWithThePoolAndTheImagesGetTheSameReferences(int images, int references, ulong seed)
    {
        var sample = ReferenceSample.Draw(images, references, seed);
        var order = ReferenceSample.DrawingOrder(images, seed).ToArray();

        // Every image once, and the pool first: with no failed image the pool is unchanged.
        Assert.Equal(Enumerable.Range(0, images), order.Order());
        Assert.Equal(sample.Pool, order.Take(sample.Pool.Count));
        var pool = order.Take(sample.Pool.Count).ToArray();
        for (var image = 0; image < images; image++)
        {
            var positions = ReferenceSample.PoolReferencesFor(pool, sample.ReferenceCount, image);
            Assert.Equal(sample.ReferencesFor(image), positions.Select(p => pool[p]));
        }
    }

    [Fact]
    public void APoolMemberThatCannotBeUsedIsReplacedByTheNextCandidate()
    {
        const int images = 50;
        const int references = 4;
        var order = ReferenceSample.DrawingOrder(images, 9).ToArray();
        // The second pool member failed: the pool is the first R+1 usable candidates in drawing order.
        var pool = order.Where(index => index != order[1]).Take(references + 1).ToArray();
        Assert.Equal(order[references + 1], pool[^1]);

        var positions = ReferenceSample.PoolReferencesFor(pool, references, pool[0]);
        Assert.Equal(references, positions.Length);
        Assert.DoesNotContain(pool[0], positions.Select(p => pool[p]));
        Assert.Equal(positions.Select(p => pool[p]).Order(), positions.Select(p => pool[p]));
    }
}
