using LlCuda.Engine.Kv;

namespace LlCuda.Tests.Engine;

public class KvBlockManagerTests
{
    static int[] Tokens(int count, int seed = 1) => Enumerable.Range(0, count).Select(i => (i * 7 + seed * 13) % 100).ToArray();

    [Fact]
    public void Reserve_TakesBlocksAsTheSequenceGrows_AndReleaseReturnsThem()
    {
        var m = new KvBlockManager(blockCount: 8, blockSize: 4);
        var s = new KvSequence();
        Assert.True(m.Reserve(s, 5));
        Assert.Equal(2, s.Blocks.Count);
        Assert.True(m.Reserve(s, 8));
        Assert.Equal(2, s.Blocks.Count);
        Assert.True(m.Reserve(s, 9));
        Assert.Equal(3, s.Blocks.Count);
        Assert.Equal(3, m.UsedBlocks);
        Assert.Equal(3, s.Blocks.Distinct().Count());
        m.Release(s);
        Assert.Empty(s.Blocks);
        Assert.Equal(0, m.UsedBlocks);
        Assert.Equal(8, m.AvailableBlocks);
    }

    [Fact]
    public void Reserve_MoreThanThePoolHas_ReturnsFalseAndChangesNothing()
    {
        var m = new KvBlockManager(blockCount: 4, blockSize: 4);
        var a = new KvSequence();
        Assert.True(m.Reserve(a, 12));
        var b = new KvSequence();
        Assert.False(m.Reserve(b, 8));
        Assert.Empty(b.Blocks);
        Assert.Equal(1, m.AvailableBlocks);
    }

    [Fact]
    public void MatchPrefix_AfterCommit_SharesTheFullBlocksAndLeavesTheLastTokenToCompute()
    {
        var m = new KvBlockManager(blockCount: 16, blockSize: 4);
        int[] prompt = Tokens(12);
        var a = new KvSequence();
        Assert.True(m.Reserve(a, prompt.Length));
        m.Commit(a, prompt, prompt.Length);

        // Same 12 tokens: 2 blocks shared (8 tokens), the third holds the last token and is recomputed.
        var b = new KvSequence();
        Assert.Equal(8, m.MatchPrefix(b, prompt));
        Assert.Equal(a.Blocks.Take(2), b.Blocks);
        Assert.Equal(8, b.Computed);
        // A longer prompt with the same first 12 tokens shares all three.
        var c = new KvSequence();
        Assert.Equal(12, m.MatchPrefix(c, [.. prompt, 5, 6]));
        Assert.Equal(a.Blocks, c.Blocks);
        Assert.Equal(20, m.ReusedTokens);
        Assert.Equal(3, m.UsedBlocks); // shared blocks are counted once
    }

    [Fact]
    public void MatchPrefix_ADifferentTokenInABlock_StopsTheMatchThere()
    {
        var m = new KvBlockManager(blockCount: 16, blockSize: 4);
        int[] prompt = Tokens(13);
        var a = new KvSequence();
        m.Reserve(a, prompt.Length);
        m.Commit(a, prompt, prompt.Length);
        int[] other = (int[])prompt.Clone();
        other[5] = 99; // inside the second block
        var b = new KvSequence();
        Assert.Equal(4, m.MatchPrefix(b, other));
        Assert.Equal([a.Blocks[0]], b.Blocks);
    }

    [Fact]
    public void MatchPrefix_SameTokensAfterADifferentPrefix_DoesNotMatch()
    {
        // Block keys name the whole prefix (their parent block), not just their own tokens.
        var m = new KvBlockManager(blockCount: 16, blockSize: 2);
        var a = new KvSequence();
        int[] pa = [1, 2, 3, 4, 9];
        m.Reserve(a, pa.Length);
        m.Commit(a, pa, pa.Length);
        var b = new KvSequence();
        Assert.Equal(0, m.MatchPrefix(b, [7, 7, 3, 4, 9]));
    }

    [Fact]
    public void Release_KeepsFullBlocksCachedUntilTheirMemoryIsNeeded_LeastRecentlyUsedFirst()
    {
        var m = new KvBlockManager(blockCount: 4, blockSize: 2);
        int[] pa = [1, 2, 3, 4, 5];
        var a = new KvSequence();
        m.Reserve(a, pa.Length);
        m.Commit(a, pa, 4); // blocks 0 and 1 full and registered; the third holds one token
        m.Release(a);
        Assert.Equal(0, m.UsedBlocks);
        Assert.Equal(2, m.CachedBlocks);

        // Still cached: a new request reuses them.
        var b = new KvSequence();
        Assert.Equal(4, m.MatchPrefix(b, pa));
        m.Release(b);

        // A sequence that needs the whole pool evicts them (and their index entries).
        var c = new KvSequence();
        Assert.True(m.Reserve(c, 8));
        Assert.Equal(0, m.CachedBlocks);
        m.Release(c);
        var d = new KvSequence();
        Assert.Equal(0, m.MatchPrefix(d, pa));
    }

    [Fact]
    public void Reserve_EvictingAPrefixBlock_AlsoDropsItsCachedDescendants()
    {
        // Two blocks cached as a chain; the pool then needs exactly the free ones plus one
        // cached block: the tail (least recently used) goes first, and evicting the head would
        // orphan nothing.
        var m = new KvBlockManager(blockCount: 3, blockSize: 2);
        int[] p = [1, 2, 3, 4, 5];
        var a = new KvSequence();
        m.Reserve(a, 5);
        m.Commit(a, p, 4);
        m.Release(a);
        Assert.Equal(2, m.CachedBlocks);
        var b = new KvSequence();
        Assert.True(m.Reserve(b, 4)); // the free block + the chain's tail
        Assert.Equal(1, m.CachedBlocks);
        m.Release(b);
        var c = new KvSequence();
        Assert.Equal(2, m.MatchPrefix(c, p)); // the head is still found
        m.Release(c);
        // Now take everything: the head goes, and nothing stale stays in the index.
        var d = new KvSequence();
        Assert.True(m.Reserve(d, 6));
        Assert.Equal(0, m.CachedBlocks);
        m.Release(d);
        Assert.Equal(0, m.MatchPrefix(new KvSequence(), p));
    }

    [Fact]
    public void Commit_TheSamePrefixComputedTwiceAtOnce_RegistersOneCopy()
    {
        var m = new KvBlockManager(blockCount: 8, blockSize: 2);
        int[] p = [1, 2, 3, 4, 5];
        var a = new KvSequence();
        var b = new KvSequence();
        m.Reserve(a, 5);
        m.Reserve(b, 5);
        m.Commit(a, p, 5);
        m.Commit(b, p, 5);
        m.Release(a);
        m.Release(b);
        Assert.Equal(2, m.CachedBlocks); // b's duplicates went back to the free list
        Assert.Equal(8, m.AvailableBlocks);
    }

    [Fact]
    public void PrefixCachingOff_NothingIsReused()
    {
        var m = new KvBlockManager(blockCount: 8, blockSize: 2, prefixCaching: false);
        int[] p = [1, 2, 3, 4, 5];
        var a = new KvSequence();
        m.Reserve(a, 5);
        m.Commit(a, p, 5);
        m.Release(a);
        Assert.Equal(0, m.CachedBlocks);
        Assert.Equal(0, m.MatchPrefix(new KvSequence(), p));
    }

    [Fact]
    public void RandomWorkload_EveryBlockIsFreeAtTheEnd()
    {
        var rng = new Random(7);
        var m = new KvBlockManager(blockCount: 64, blockSize: 4);
        var live = new List<(KvSequence Seq, int[] Tokens)>();
        int[] common = Tokens(40, 3);
        for (int step = 0; step < 2000; step++)
        {
            if (live.Count > 0 && rng.Next(3) == 0)
            {
                int i = rng.Next(live.Count);
                m.Release(live[i].Seq);
                live.RemoveAt(i);
                continue;
            }
            int len = rng.Next(1, 40);
            int[] t = rng.Next(2) == 0 ? common[..len] : Tokens(len, rng.Next(5));
            var s = new KvSequence();
            int matched = m.MatchPrefix(s, t);
            Assert.True(matched < len);
            if (!m.Reserve(s, len)) { m.Release(s); continue; }
            m.Commit(s, t, len);
            live.Add((s, t));
            Assert.Equal(64, m.UsedBlocks + m.AvailableBlocks);
        }
        foreach (var (s, _) in live) m.Release(s);
        Assert.Equal(0, m.UsedBlocks);
        Assert.Equal(64, m.AvailableBlocks);
    }
}
