using LlCuda.Gguf;

namespace LlCuda.Storage;

/// <summary>
/// The local model store: content-addressed blobs, OCI manifests and configs (blobs too), tags
/// that name manifests, and a cache manager (byte budget, LRU eviction of unpinned tags by last
/// use, gc of unreferenced blobs). Safe for several processes at once: blobs are written without
/// a lock (temp file + atomic rename), every tag change happens under <see cref="StoreLock"/>.
/// </summary>
public sealed class ModelStore
{
    // A temp file younger than this may belong to a put still running in another process.
    public static readonly TimeSpan StaleTempAge = TimeSpan.FromHours(1);
    // Manifests and configs are small; a bigger "manifest" blob is something else (a GGUF).
    const long MaxManifestBytes = 4 << 20;

    readonly TimeProvider _clock;

    public ModelStore(StoreLayout layout, TimeProvider? clock = null)
    {
        Layout = layout;
        Blobs = new BlobStore(layout);
        _clock = clock ?? TimeProvider.System;
    }

    public static ModelStore FromEnvironment() => new(StoreLayout.FromEnvironment());

    public StoreLayout Layout { get; }
    public BlobStore Blobs { get; }

    /// <summary>
    /// Stores a GGUF file under <paramref name="reference"/>: weights, config and manifest blobs,
    /// then the tag. With a budget (bytes, 0 = none), least recently used unpinned tags are
    /// evicted until the stored blobs fit (the new tag is never evicted).
    /// </summary>
    public PutResult Put(string ggufPath, ModelReference reference, long budgetBytes = 0, Action<BlobProgress>? progress = null,
        string? licensePath = null, CancellationToken cancellation = default)
    {
        ModelConfig config;
        // Parsing first rejects a file that is not GGUF before any byte is copied.
        using (var gguf = GgufFile.Open(ggufPath)) config = ModelConfig.FromGguf(gguf);

        // A concurrent gc (or eviction) may delete a blob between its write and the tag's commit;
        // the commit sees that under the lock and the put writes the blobs again.
        for (int attempt = 1; ; attempt++)
        {
            var (weights, size) = Blobs.PutFile(ggufPath, progress, cancellation);
            var now = _clock.GetUtcNow();
            // "created" is the file's time, not now: putting the same file again gives the same
            // config and manifest digests, so a re-put stores nothing new.
            var created = new DateTimeOffset(File.GetLastWriteTimeUtc(ggufPath), TimeSpan.Zero);
            var (configDigest, configSize) = Blobs.Put(config.ToJson(weights, created));
            var layers = new List<Descriptor> { new(MediaTypes.Gguf, weights, size) };
            if (licensePath is not null)
            {
                var (license, licenseSize) = Blobs.PutFile(licensePath, cancellation: cancellation);
                layers.Add(new Descriptor(MediaTypes.License, license, licenseSize));
            }
            var manifest = new ModelManifest(new Descriptor(MediaTypes.ModelConfig, configDigest, configSize), layers);
            var (manifestDigest, _) = Blobs.Put(manifest.ToJson());

            using var _ = StoreLock.Acquire(Layout);
            if (!manifest.Blobs.Append(manifestDigest).All(Blobs.Exists))
            {
                if (attempt < 3) continue;
                throw new StoreException(StoreFailure.Busy, $"{ggufPath}: a concurrent gc kept removing the new blobs; put it again");
            }
            bool pinned = TryReadTag(reference)?.Pinned ?? false;
            WriteTag(reference, new TagRecord(manifestDigest, pinned, now));
            var evicted = budgetBytes > 0 ? EvictLocked(budgetBytes, reference) : [];
            return new PutResult(reference, manifestDigest, manifest.Weights, evicted);
        }
    }

    /// <summary>
    /// Tags a manifest whose blobs are already in the store (a pull): the manifest bytes become
    /// a blob (its digest must be <paramref name="expected"/> when given), then the tag points
    /// to it. Fails, tagging nothing, when a blob the manifest names is missing.
    /// </summary>
    public Digest TagManifest(ModelReference reference, ReadOnlySpan<byte> manifestBytes, Digest? expected = null)
    {
        var manifest = ModelManifest.Parse(manifestBytes, reference.ToString());
        _ = manifest.Weights; // a manifest without a GGUF layer is refused here
        var (digest, _) = Blobs.Put(manifestBytes);
        if (expected is { } e && e != digest)
            throw new StoreException(StoreFailure.Corrupt, $"model '{reference}': the manifest's bytes hash to {digest}, not {e}; pull it again");
        using var storeLock = StoreLock.Acquire(Layout);
        foreach (var blob in manifest.Blobs)
            if (!Blobs.Exists(blob))
                throw new StoreException(StoreFailure.Corrupt, $"model '{reference}': blob {blob} is missing; pull it again");
        bool pinned = TryReadTag(reference)?.Pinned ?? false;
        WriteTag(reference, new TagRecord(digest, pinned, _clock.GetUtcNow()));
        return digest;
    }

    /// <summary>
    /// Finds a tag's model and checks its weights blob cheaply (present, and the size the
    /// manifest says); records the use for LRU. Full re-hashing is verify's job: hashing a
    /// multi-GB model on every load would cost seconds and read every page the memory map
    /// would otherwise load lazily.
    /// </summary>
    public StoredModel Open(ModelReference reference, bool recordUse = true)
    {
        var model = Describe(reference);
        long actual = Blobs.SizeOf(model.Weights.Digest);
        if (actual != model.Weights.Size)
            throw new StoreException(StoreFailure.Corrupt, actual < 0
                ? $"model '{reference}': its weights blob {model.Weights.Digest} is missing; run 'llcuda storage verify', then put or pull it again"
                : $"model '{reference}': its weights blob {model.Weights.Digest} has {actual:N0} bytes, the manifest says {model.Weights.Size:N0} (truncated or damaged); run 'llcuda storage verify', then put or pull it again");
        if (recordUse) Touch(reference);
        return model;
    }

    /// <summary>A tag's record, manifest and config, without checking the weights.</summary>
    public StoredModel Describe(ModelReference reference)
    {
        var tag = TryReadTag(reference) ?? throw NotInStore(reference);
        var manifest = ReadManifest(tag.Manifest);
        var config = ReadBlobJson(manifest.Config.Digest, (b, s) => ModelConfig.Parse(b, s));
        return new StoredModel(reference, tag, manifest, config, Blobs.PathOf(manifest.Weights.Digest));
    }

    public static StoreException NotInStore(ModelReference r) => new(StoreFailure.NotFound,
        $"unknown model '{r}': not in the store (llcuda storage list; llcuda storage put FILE --name {r})");

    public ModelManifest ReadManifest(Digest digest) => ReadBlobJson(digest, (b, s) => ModelManifest.Parse(b, s));

    T ReadBlobJson<T>(Digest digest, Func<byte[], string, T> parse)
    {
        long size = Blobs.SizeOf(digest);
        if (size < 0)
            throw new StoreException(StoreFailure.Corrupt, $"blob {digest} is missing; run 'llcuda storage verify', then put or pull the model again");
        if (size > MaxManifestBytes)
            throw new StoreException(StoreFailure.Corrupt, $"blob {digest} has {size:N0} bytes: too big for a manifest or config (is it a model's weights? give its name:tag instead)");
        return parse(File.ReadAllBytes(Blobs.PathOf(digest)), digest.ToString());
    }

    /// <summary>Records a use now (the LRU clock). A tag removed meanwhile is left removed.</summary>
    public void Touch(ModelReference reference)
    {
        using var _ = StoreLock.Acquire(Layout);
        // No fsync: a last-use time lost in a power cut only makes the LRU order a little off,
        // and the flush was ~4 of the ~10 ms the store added to each model load (docs/performance.md).
        if (TryReadTag(reference) is { } tag) WriteTag(reference, tag with { LastUsed = _clock.GetUtcNow() }, durable: false);
    }

    public void SetPinned(ModelReference reference, bool pinned)
    {
        using var _ = StoreLock.Acquire(Layout);
        var tag = TryReadTag(reference) ?? throw NotInStore(reference);
        WriteTag(reference, tag with { Pinned = pinned });
    }

    /// <summary>Removes a tag; its blobs stay until gc (another tag may share them).</summary>
    public void Remove(ModelReference reference)
    {
        using var _ = StoreLock.Acquire(Layout);
        string path = Layout.TagPath(reference);
        if (!File.Exists(path)) throw NotInStore(reference);
        File.Delete(path);
        PruneEmptyDirectories(Path.GetDirectoryName(path)!);
    }

    /// <summary>Every tag with its manifest and config, sorted by name and tag.</summary>
    public IReadOnlyList<StoredModel> List()
    {
        var models = new List<StoredModel>();
        foreach (var reference in Tags())
        {
            try { models.Add(Describe(reference)); }
            catch (StoreException) when (TryReadTag(reference) is null) { } // removed meanwhile
        }
        return models.OrderBy(m => m.Reference.Name, StringComparer.Ordinal).ThenBy(m => m.Reference.Tag, StringComparer.Ordinal).ToList();
    }

    /// <summary>Every tag on disk (names are the paths under manifests/, the tag is the file name).</summary>
    public IEnumerable<ModelReference> Tags()
    {
        if (!Directory.Exists(Layout.ManifestDirectory)) yield break;
        foreach (var path in Directory.EnumerateFiles(Layout.ManifestDirectory, "*", SearchOption.AllDirectories))
        {
            if (StoreLayout.IsTempName(Path.GetFileName(path))) continue;
            string relative = Path.GetRelativePath(Layout.ManifestDirectory, path).Replace(Path.DirectorySeparatorChar, '/');
            int slash = relative.LastIndexOf('/');
            if (slash <= 0) continue;
            if (ModelReference.TryParse($"{relative[..slash]}:{relative[(slash + 1)..]}", out var r, out _)) yield return r;
        }
    }

    /// <summary>
    /// Removes blobs no tag references (through its manifest) and temp files older than
    /// <see cref="StaleTempAge"/> (younger ones may be a put in progress).
    /// </summary>
    public GcResult CollectGarbage()
    {
        using var _ = StoreLock.Acquire(Layout);
        var (blobs, bytes) = CollectLocked();
        int temps = 0;
        var cutoff = _clock.GetUtcNow() - StaleTempAge;
        foreach (var temp in Blobs.TempFiles().Concat(TagTempFiles()))
        {
            if (temp.LastWriteTimeUtc >= cutoff.UtcDateTime) continue;
            temp.Delete();
            temps++;
        }
        return new GcResult(blobs, bytes, temps);
    }

    IEnumerable<FileInfo> TagTempFiles() => Directory.Exists(Layout.ManifestDirectory)
        ? new DirectoryInfo(Layout.ManifestDirectory).EnumerateFiles(".tmp-*", SearchOption.AllDirectories)
        : [];

    (int Blobs, long Bytes) CollectLocked()
    {
        var live = LiveBlobs(out _);
        int removed = 0;
        long bytes = 0;
        foreach (var digest in Blobs.All().ToList())
        {
            if (live.Contains(digest)) continue;
            long size = Blobs.SizeOf(digest);
            Blobs.Delete(digest);
            removed++;
            bytes += Math.Max(0, size);
        }
        return (removed, bytes);
    }

    // Blobs reachable from tags: each manifest and what it lists. A tag whose manifest cannot be
    // read keeps its manifest digest alive (so gc never deletes more because of damage).
    HashSet<Digest> LiveBlobs(out Dictionary<Digest, List<ModelReference>> users)
    {
        var live = new HashSet<Digest>();
        var byDigest = new Dictionary<Digest, List<ModelReference>>();
        users = byDigest;
        void Use(Digest d, ModelReference r)
        {
            live.Add(d);
            if (!byDigest.TryGetValue(d, out var list)) byDigest[d] = list = [];
            list.Add(r);
        }
        foreach (var reference in Tags())
        {
            if (TryReadTag(reference) is not { } tag) continue;
            Use(tag.Manifest, reference);
            try
            {
                foreach (var d in ReadManifest(tag.Manifest).Blobs) Use(d, reference);
            }
            catch (StoreException) { }
        }
        return live;
    }

    /// <summary>
    /// Evicts least recently used unpinned tags until the blobs the remaining tags reference
    /// fit in <paramref name="budgetBytes"/>, then removes the blobs nothing references.
    /// </summary>
    List<ModelReference> EvictLocked(long budgetBytes, ModelReference keep)
    {
        var evicted = new List<ModelReference>();
        var candidates = Tags().Where(r => r != keep)
            .Select(r => (Reference: r, Tag: TryReadTag(r)))
            .Where(x => x.Tag is { Pinned: false })
            .OrderBy(x => x.Tag!.LastUsed)
            .Select(x => x.Reference)
            .ToList();
        foreach (var victim in candidates)
        {
            if (LiveBytes() <= budgetBytes) break;
            File.Delete(Layout.TagPath(victim));
            PruneEmptyDirectories(Path.GetDirectoryName(Layout.TagPath(victim))!);
            evicted.Add(victim);
        }
        if (evicted.Count > 0) CollectLocked();
        return evicted;
    }

    long LiveBytes() => LiveBlobs(out _).Sum(d => Math.Max(0, Blobs.SizeOf(d)));

    /// <summary>Bytes of all blobs reachable from tags (what the budget counts).</summary>
    public long StoredBytes() => LiveBytes();

    /// <summary>
    /// Re-hashes blobs and reports every one whose bytes do not match its name, and every blob a
    /// tag needs that is missing. With a reference: that tag's blobs only; without: every blob.
    /// </summary>
    public VerifyResult Verify(ModelReference? reference = null, Action<Digest, BlobProgress>? progress = null)
    {
        LiveBlobs(out var users);
        IEnumerable<Digest> targets;
        var problems = new List<VerifyProblem>();
        IReadOnlyList<ModelReference> UsersOf(Digest d) => users.TryGetValue(d, out var l) ? l : [];
        if (reference is not null)
        {
            var tag = TryReadTag(reference) ?? throw NotInStore(reference);
            var set = new List<Digest> { tag.Manifest };
            try { set.AddRange(ReadManifest(tag.Manifest).Blobs); }
            catch (StoreException e) { problems.Add(new VerifyProblem(tag.Manifest, e.Message, [reference])); }
            targets = set.Distinct();
        }
        else targets = Blobs.All().Concat(users.Keys).Distinct();

        int checkedCount = 0;
        long bytes = 0;
        foreach (var digest in targets)
        {
            if (problems.Any(p => p.Digest == digest)) continue;
            if (!Blobs.Exists(digest))
            {
                problems.Add(new VerifyProblem(digest, "missing", UsersOf(digest)));
                continue;
            }
            var actual = Blobs.Hash(digest, progress is null ? null : p => progress(digest, p));
            checkedCount++;
            bytes += Math.Max(0, Blobs.SizeOf(digest));
            if (actual != digest)
                problems.Add(new VerifyProblem(digest, $"content hashes to {actual}", UsersOf(digest)));
        }
        return new VerifyResult(checkedCount, bytes, problems);
    }

    TagRecord? TryReadTag(ModelReference reference)
    {
        string path = Layout.TagPath(reference);
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; }
        return TagRecord.Parse(bytes, path);
    }

    // Called under the lock. Temp file + rename, so a reader never sees half a tag file.
    void WriteTag(ModelReference reference, TagRecord record, bool durable = true)
    {
        string path = Layout.TagPath(reference);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temp = StoreLayout.TempPathBeside(path);
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                fs.Write(record.ToJson());
                fs.Flush(flushToDisk: durable);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally { File.Delete(temp); }
    }

    void PruneEmptyDirectories(string directory)
    {
        string stop = Path.GetFullPath(Layout.ManifestDirectory);
        while (Path.GetFullPath(directory) != stop && Directory.Exists(directory) && !Directory.EnumerateFileSystemEntries(directory).Any())
        {
            Directory.Delete(directory);
            directory = Path.GetDirectoryName(directory)!;
        }
    }
}
