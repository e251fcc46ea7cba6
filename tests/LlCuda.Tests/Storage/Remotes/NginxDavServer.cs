using System.Diagnostics;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Storage.Remotes;

/// <summary>
/// nginx with the WebDAV PUT/DELETE methods on 127.0.0.1:free port, serving a temp folder:
/// the same plain PUT/GET/HEAD/DELETE (with Range) API as a SeaweedFS filer. Started on first
/// use, stopped by pid on dispose.
/// </summary>
public sealed class NginxDavServer : IDisposable
{
    readonly Lazy<Uri> _started;
    readonly string _dir = TestPaths.NewTempDir();
    Process? _process;

    public NginxDavServer() => _started = new(Launch);

    public Uri BaseUri => _started.Value;

    /// <summary>Where nginx serves files from: a test can corrupt or truncate a stored file here.</summary>
    public string DataDirectory => Path.Combine(_dir, "data");

    Uri Launch()
    {
        string exe = TestServers.Find("nginx") ?? throw new InvalidOperationException(TestServers.NginxSkipReason);
        int port = TestServers.FreePort();
        System.IO.Directory.CreateDirectory(DataDirectory);
        System.IO.Directory.CreateDirectory(Path.Combine(_dir, "tmp"));
        // As root, nginx workers drop to "nobody", who cannot write our temp folder.
        string user = Environment.UserName == "root" ? "user root;" : "";
        string conf = Path.Combine(_dir, "nginx.conf");
        File.WriteAllText(conf, $$"""
            {{user}}
            worker_processes 1;
            error_log {{_dir}}/error.log warn;
            events { worker_connections 256; }
            http {
              access_log off;
              client_body_temp_path {{_dir}}/tmp;
              proxy_temp_path {{_dir}}/tmp;
              fastcgi_temp_path {{_dir}}/tmp;
              uwsgi_temp_path {{_dir}}/tmp;
              scgi_temp_path {{_dir}}/tmp;
              client_max_body_size 0;
              server {
                listen 127.0.0.1:{{port}};
                root {{DataDirectory}};
                location / {
                  dav_methods PUT DELETE;
                  create_full_put_path on;
                  dav_access user:rw group:r all:r;
                }
              }
            }
            """);
        _process = TestServers.Start(exe, ["-c", conf, "-p", _dir, "-e", Path.Combine(_dir, "error.log"), "-g", $"daemon off; pid {_dir}/nginx.pid;"],
            port, Path.Combine(_dir, "nginx.out"));
        return new Uri($"http://127.0.0.1:{port}/");
    }

    public void Dispose()
    {
        TestServers.Stop(_process);
        try { System.IO.Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
