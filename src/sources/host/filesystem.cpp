// filesystem: node_filesystem_* per mount point.
//
// statfs on a mount whose server is gone (NFS, CIFS, a FUSE daemon that hung)
// blocks in the kernel, possibly forever, so it never runs on the loop: each
// such mount gets a uv_fs_statfs request in libuv's thread pool and the
// collection ends when all have returned or stat_timeout fires, whichever is
// first. Filesystems on local block devices (not FUSE) cannot hang that way
// and are asked directly. A
// mount still pending at the timeout reports device_error 1 and is "stuck":
// it gets no new request until the old one returns, so a dead server ties up
// at most one pool thread per mount (node_exporter's stuckMounts).
//
// A request cannot be cancelled once a pool thread runs it, so it may finish
// after this collector is gone (config reload). Each request is a heap object
// owned by its own completion callback; it reaches the collector through a
// shared Anchor whose pointer the destructor clears.
#include <linux/magic.h>
#include <poll.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <uv.h>

#include <array>
#include <memory>
#include <set>

#include "core/log.hpp"
#include "core/regex.hpp"
#include "core/timer.hpp"
#include "sources/host/collector.hpp"
#include "sources/host/collector_options.hpp"
#include "sources/host/parse/mounts.hpp"
#include "sources/host/proc_file.hpp"

namespace edgemon::collect {

using namespace std::chrono_literals;

namespace {

using metrics::Type;

struct FsMount {
  std::string device;
  std::string fstype;
  std::string mount_point;  // as the host sees it: the label
  std::string stat_path;    // rootfs + mount point
  bool read_only = false;
  bool local = false;  // on a block device: statfs answers from memory
  bool has_devno = false;
  uint32_t major = 0;
  uint32_t minor = 0;
  bool waiting = false;  // a statfs of this collection is in flight
  bool error = false;    // statfs failed, timed out or is stuck
  uint64_t size = 0;
  uint64_t free = 0;
  uint64_t avail = 0;
  uint64_t files = 0;
  uint64_t files_free = 0;
};

class FilesystemCollector;

// Our own mount table is the host's unless we run in a container, where the
// host's root is mounted elsewhere (collect.rootfs) and the host's table is
// that of its init process, as node_exporter reads it.
std::string mountinfo_path(const config::Config& config) {
  const std::string& root = config.collect.rootfs;
  std::string init_table = config.collect.procfs + "/1/mountinfo";
  bool host_root = root.find_first_not_of('/') == std::string::npos;
  if (!host_root && ::access(init_table.c_str(), R_OK) == 0) return init_table;
  return config.collect.procfs + "/self/mountinfo";
}

struct Anchor {
  FilesystemCollector* owner;
};

struct StatRequest {
  uv_fs_t req{};
  std::shared_ptr<Anchor> anchor;
  uint64_t round = 0;
  size_t index = 0;
  std::string mount_point;
};

void on_statfs_done(uv_fs_t* req);

class FilesystemCollector final : public Collector {
 public:
  FilesystemCollector(const config::Config& config, Regex mount_points_exclude,
                      Regex fs_types_exclude)
      : mountinfo_(mountinfo_path(config)),
        mounts_(config.collect.procfs + "/mounts"),
        root_(config.collect.rootfs),
        timeout_ms_(static_cast<uint64_t>(
            config.collect.collectors.get<FilesystemOptions>("filesystem").stat_timeout.count())),
        mount_points_exclude_(std::move(mount_points_exclude)),
        fs_types_exclude_(std::move(fs_types_exclude)),
        anchor_(std::make_shared<Anchor>(Anchor{this})) {
    while (!root_.empty() && root_.back() == '/')
      root_.pop_back();
  }

  ~FilesystemCollector() override { anchor_->owner = nullptr; }

  void gather(const CollectContext& ctx, std::function<void(std::string)> ready) override {
    if (in_progress_) {
      ready("previous collection still waiting for statfs");
      return;
    }
    std::string err = read_mount_table();
    if (!err.empty()) {
      ok_ = false;
      ready(err);
      return;
    }
    select_mounts();
    ++round_;
    in_progress_ = true;
    ready_ = std::move(ready);
    start_requests(ctx.loop);
    if (outstanding_ == 0) {
      finish();
      return;
    }
    if (!timer_) timer_ = std::make_unique<Timer>(ctx.loop);
    timer_->start(timeout_ms_, 0, [this] { on_timeout(); });
  }

  void write(metrics::MetricSink& sink) const override {
    if (!ok_) return;
    write_family(sink,
                 {"node_filesystem_avail_bytes",
                  "Filesystem space available to non-root users in bytes.", Type::kGauge},
                 &FsMount::avail);
    sink.begin({"node_filesystem_device_error",
                "Whether an error occurred while getting statistics for the given device.",
                Type::kGauge});
    for (size_t i = 0; i < published_count_; ++i)
      sink.sample(labels(published_[i]), published_[i].error ? 1 : 0);
    write_family(sink, {"node_filesystem_files", "Filesystem total file nodes.", Type::kGauge},
                 &FsMount::files);
    write_family(sink,
                 {"node_filesystem_files_free", "Filesystem total free file nodes.", Type::kGauge},
                 &FsMount::files_free);
    write_family(sink,
                 {"node_filesystem_free_bytes", "Filesystem free space in bytes.", Type::kGauge},
                 &FsMount::free);
    // Like node_exporter, a mount without statistics reports only its error.
    sink.begin({"node_filesystem_readonly", "Filesystem read-only status.", Type::kGauge});
    for (size_t i = 0; i < published_count_; ++i)
      if (!published_[i].error) sink.sample(labels(published_[i]), published_[i].read_only);
    write_family(sink, {"node_filesystem_size_bytes", "Filesystem size in bytes.", Type::kGauge},
                 &FsMount::size);
  }

  void on_statfs(const StatRequest& r) {
    if (!in_progress_ || r.round != round_) {
      // The answer to a request that timed out in an earlier collection.
      stuck_.erase(r.mount_point);
      log::info("filesystem_statfs_returned", {{"mount_point", r.mount_point}});
      return;
    }
    FsMount& m = pending_[r.index];
    m.waiting = false;
    apply_statfs(r.req, &m);
    if (--outstanding_ == 0) finish();
  }

 private:
  static std::array<metrics::Label, 3> labels(const FsMount& m) {
    return {{{"device", m.device}, {"fstype", m.fstype}, {"mountpoint", m.mount_point}}};
  }

  void write_family(metrics::MetricSink& sink, const metrics::FamilyDesc& family,
                    uint64_t FsMount::*value) const {
    sink.begin(family);
    for (size_t i = 0; i < published_count_; ++i) {
      const FsMount& m = published_[i];
      if (!m.error) sink.sample(labels(m), static_cast<double>(m.*value));
    }
  }

  // mountinfo gives device numbers (to recognise bind mounts); kernels and
  // fixture trees without it have /proc/mounts.
  std::string read_mount_table() {
    ProcFile& file = use_mounts_ ? mounts_ : mountinfo_;
    if (table_valid_ && !table_changed(file)) return "";
    table_valid_ = false;
    std::string err;
    if (!use_mounts_) {
      err = mountinfo_.read(&buf_);
      if (err.empty()) {
        err = parse_mountinfo(buf_, &table_);
        return table_parsed(mountinfo_, err);
      }
    }
    err = mounts_.read(&buf_);
    if (!err.empty()) return err;
    use_mounts_ = true;  // this procfs has no mountinfo; stop trying it
    err = parse_mounts(buf_, &table_);
    return table_parsed(mounts_, err);
  }

  std::string table_parsed(const ProcFile& file, const std::string& err) {
    if (!err.empty()) return file.path() + ": " + err;
    excluded_.resize(table_.size());
    for (size_t i = 0; i < table_.size(); ++i)
      excluded_[i] = excluded(table_[i]);
    struct statfs st {};
    table_valid_ = true;
    table_pollable_ = fstatfs(file.fd(), &st) == 0 && st.f_type == PROC_SUPER_MAGIC;
    return "";
  }

  // The kernel flags an open mount table file with POLLPRI when the mount
  // namespace changes, so an unchanged table costs one poll instead of
  // regenerating and parsing the whole file. Files that are not procfs (test
  // fixture trees) cannot say, so they are always re-read.
  bool table_changed(const ProcFile& file) const {
    if (!table_pollable_ || file.fd() < 0) return true;
    pollfd p{file.fd(), POLLPRI, 0};
    return ::poll(&p, 1, 0) != 0;
  }

  bool excluded(const MountEntry& e) const {
    return mount_points_exclude_.matches(e.mount_point) || fs_types_exclude_.matches(e.fstype);
  }

  // The same filesystem mounted twice (bind mounts, /var/lib/docker on the
  // root device) is reported once, under its first mount point.
  static bool same_device(const FsMount& m, const MountEntry& e) {
    if (m.has_devno && e.has_devno) return m.major == e.major && m.minor == e.minor;
    return !e.has_devno && !e.device.empty() && e.device[0] == '/' && m.device == e.device;
  }

  void select_mounts() {
    pending_count_ = 0;
    for (size_t t = 0; t < table_.size(); ++t) {
      const MountEntry& e = table_[t];
      if (excluded_[t]) continue;
      FsMount* slot = nullptr;
      bool duplicate = false;
      for (size_t i = 0; i < pending_count_ && slot == nullptr && !duplicate; ++i) {
        // A later mount on the same point hides the earlier one; statfs
        // sees the later one, so its labels win.
        if (pending_[i].mount_point == e.mount_point)
          slot = &pending_[i];
        else
          duplicate = same_device(pending_[i], e);
      }
      if (duplicate) continue;
      if (slot == nullptr) {
        if (pending_count_ == pending_.size()) pending_.emplace_back();
        slot = &pending_[pending_count_++];
      }
      fill(e, slot);
    }
  }

  void fill(const MountEntry& e, FsMount* m) const {
    m->device = e.device;
    m->fstype = e.fstype;
    m->mount_point = e.mount_point;
    m->stat_path.assign(root_).append(e.mount_point);
    m->read_only = e.read_only;
    m->local = e.device.starts_with("/dev/") && !e.fstype.starts_with("fuse");
    m->has_devno = e.has_devno;
    m->major = e.major;
    m->minor = e.minor;
    m->waiting = false;
    m->error = false;
    m->size = m->free = m->avail = m->files = m->files_free = 0;
  }

  static void apply_statfs(const uv_fs_t& req, FsMount* m) {
    const auto* st = static_cast<const uv_statfs_t*>(req.ptr);
    if (req.result < 0 || st == nullptr) {
      m->error = true;
      return;
    }
    m->size = st->f_blocks * st->f_bsize;
    m->free = st->f_bfree * st->f_bsize;
    m->avail = st->f_bavail * st->f_bsize;
    m->files = st->f_files;
    m->files_free = st->f_ffree;
  }

  void start_requests(uv_loop_t* loop) {
    outstanding_ = 0;
    for (size_t i = 0; i < pending_count_; ++i) {
      FsMount& m = pending_[i];
      if (stuck_.count(m.mount_point) != 0) {
        m.error = true;
        continue;
      }
      if (m.local) {
        // statfs on a local filesystem is answered from the superblock in
        // memory; a thread-pool round trip would cost far more than the call.
        uv_fs_t req;
        uv_fs_statfs(nullptr, &req, m.stat_path.c_str(), nullptr);
        apply_statfs(req, &m);
        uv_fs_req_cleanup(&req);
        continue;
      }
      auto* r = new StatRequest;
      r->anchor = anchor_;
      r->round = round_;
      r->index = i;
      r->mount_point = m.mount_point;
      if (uv_fs_statfs(loop, &r->req, m.stat_path.c_str(), on_statfs_done) != 0) {
        uv_fs_req_cleanup(&r->req);
        delete r;
        m.error = true;
        continue;
      }
      r->req.data = r;  // the callback runs on a later loop iteration, never before this
      m.waiting = true;
      ++outstanding_;
    }
  }

  void on_timeout() {
    for (size_t i = 0; i < pending_count_; ++i) {
      FsMount& m = pending_[i];
      if (!m.waiting) continue;
      m.waiting = false;
      m.error = true;
      stuck_.insert(m.mount_point);
      log::warn("filesystem_statfs_timeout",
                {{"mount_point", m.mount_point}, {"timeout_ms", timeout_ms_}});
    }
    outstanding_ = 0;
    finish();
  }

  // Publishes this collection and reports it. `ready` may destroy this
  // collector, so it is the last thing done.
  void finish() {
    if (timer_) timer_->stop();
    in_progress_ = false;
    pending_.swap(published_);
    std::swap(pending_count_, published_count_);
    ok_ = true;
    auto ready = std::move(ready_);
    ready_ = nullptr;
    ready("");
  }

  ProcFile mountinfo_;
  ProcFile mounts_;
  bool use_mounts_ = false;
  std::string root_;  // rootfs without a trailing '/'; "" for "/"
  uint64_t timeout_ms_;
  Regex mount_points_exclude_;
  Regex fs_types_exclude_;
  std::shared_ptr<Anchor> anchor_;
  std::unique_ptr<Timer> timer_;
  std::set<std::string> stuck_;  // mount points with a timed-out statfs in flight
  std::string buf_;
  std::vector<MountEntry> table_;
  std::vector<char> excluded_;  // per table_ entry, by the two regexes
  bool table_valid_ = false;
  bool table_pollable_ = false;
  std::vector<FsMount> pending_;  // the collection in progress (first pending_count_)
  std::vector<FsMount> published_;
  size_t pending_count_ = 0;
  size_t published_count_ = 0;
  size_t outstanding_ = 0;
  uint64_t round_ = 0;
  bool in_progress_ = false;
  bool ok_ = false;
  std::function<void(std::string)> ready_;
};

void on_statfs_done(uv_fs_t* req) {
  std::unique_ptr<StatRequest> r(static_cast<StatRequest*>(req->data));
  if (FilesystemCollector* owner = r->anchor->owner) owner->on_statfs(*r);
  uv_fs_req_cleanup(req);
}

std::unique_ptr<Collector> make_filesystem(const config::Config& config, std::string* error) {
  const auto& o = config.collect.collectors.get<FilesystemOptions>("filesystem");
  Regex points, types;
  std::string err = points.compile(o.mount_points_exclude);
  if (!err.empty()) {
    *error = "collect.filesystem.mount_points_exclude: " + err;
    return nullptr;
  }
  err = types.compile(o.fs_types_exclude);
  if (!err.empty()) {
    *error = "collect.filesystem.fs_types_exclude: " + err;
    return nullptr;
  }
  return std::make_unique<FilesystemCollector>(config, std::move(points), std::move(types));
}

const Registration kReg{"filesystem", make_filesystem, "Filesystem usage per mount point.",
                        config::make_options<FilesystemOptions>};

}  // namespace
}  // namespace edgemon::collect
