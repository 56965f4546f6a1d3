#include "bus/family_selection_file.hpp"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "core/log.hpp"
#include "core/read_file.hpp"

namespace edgemon::bus {
namespace {

// Discovery at start arrives over the first collections of every source.
constexpr uint64_t kCoalesceMs = 2000;
// A record of kMaxFamilies names of 200 bytes at most, with room to spare.
constexpr size_t kMaxRecordBytes = 8 << 20;

struct JsonDeleter {
  void operator()(cJSON* json) const { cJSON_Delete(json); }
};
using Json = std::unique_ptr<cJSON, JsonDeleter>;

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// Runs on the worker thread.
std::string write_atomically(const std::string& path, const std::string& text) {
  std::string temporary = path + ".tmp";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno_text(temporary);
  size_t written = 0;
  while (written < text.size()) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string err = errno_text(temporary);
      ::close(fd);
      return err;
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    std::string err = errno_text(temporary);
    ::close(fd);
    return err;
  }
  ::close(fd);
  if (::rename(temporary.c_str(), path.c_str()) != 0) return errno_text(path);
  // The rename is durable once the directory is.
  std::string dir = path.substr(0, path.find_last_of('/') + 1);
  int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return "";
}

}  // namespace

std::string family_choices_json(const FamilyChoices& families) {
  Json root(cJSON_CreateObject());
  cJSON* all = cJSON_AddObjectToObject(root.get(), "families");
  for (const auto& [name, choice] : families) {
    cJSON* item = cJSON_AddObjectToObject(all, name.c_str());
    cJSON_AddBoolToObject(item, "enabled", choice.enabled);
    cJSON_AddStringToObject(item, "origin", std::string(origin_name(choice.origin)).c_str());
    if (choice.origin == Origin::kApi) {
      cJSON_AddStringToObject(item, "file_said", choice.file_said.c_str());
    }
  }
  char* printed = cJSON_Print(root.get());
  std::string text = printed != nullptr ? printed : "{}";
  cJSON_free(printed);
  return text + "\n";
}

std::string parse_family_choices(std::string_view text, FamilyChoices* out) {
  out->clear();
  Json root(cJSON_ParseWithLength(text.data(), text.size()));
  if (root == nullptr) return "not JSON";
  const cJSON* all = cJSON_GetObjectItemCaseSensitive(root.get(), "families");
  if (!cJSON_IsObject(all)) return "no \"families\" object";
  const cJSON* item = nullptr;
  cJSON_ArrayForEach(item, all) {
    std::string name = item->string != nullptr ? item->string : "";
    const cJSON* enabled = cJSON_GetObjectItemCaseSensitive(item, "enabled");
    const cJSON* origin = cJSON_GetObjectItemCaseSensitive(item, "origin");
    const cJSON* file_said = cJSON_GetObjectItemCaseSensitive(item, "file_said");
    FamilyChoice choice;
    if (name.empty() || !cJSON_IsBool(enabled) || !cJSON_IsString(origin) ||
        !parse_origin(origin->valuestring, &choice.origin)) {
      return "family '" + name +
             "': expected {\"enabled\": bool, \"origin\": config|api|discovered}";
    }
    choice.enabled = cJSON_IsTrue(enabled);
    if (cJSON_IsString(file_said)) choice.file_said = file_said->valuestring;
    if (choice.file_said != "" && choice.file_said != "true" && choice.file_said != "false") {
      return "family '" + name + "': file_said must be \"true\", \"false\" or \"\"";
    }
    (*out)[name] = std::move(choice);
  }
  return "";
}

std::string parse_family_changes(std::string_view text, std::map<std::string, bool>* out) {
  out->clear();
  Json root(cJSON_ParseWithLength(text.data(), text.size()));
  if (root == nullptr || !cJSON_IsObject(root.get())) {
    return "expected a JSON object of metric family names to true or false, e.g. "
           "{\"node_load1\": false}";
  }
  std::string not_bool;
  size_t not_bool_count = 0;
  const cJSON* item = nullptr;
  cJSON_ArrayForEach(item, root.get()) {
    std::string name = item->string != nullptr ? item->string : "";
    if (cJSON_IsBool(item)) {
      (*out)[name] = cJSON_IsTrue(item);
    } else if (++not_bool_count <= 5) {
      not_bool += (not_bool.empty() ? "" : ", ") + name.substr(0, 200);
    }
  }
  if (not_bool_count == 0) return "";
  out->clear();
  return "values must be true or false: " + not_bool +
         (not_bool_count > 5 ? " and " + std::to_string(not_bool_count - 5) + " more" : "");
}

std::string load_family_choices(const std::string& path, FamilyChoices* out) {
  out->clear();
  if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) return "";
  std::string text;
  std::string err = read_file(path, &text, kMaxRecordBytes);
  if (err.empty()) {
    err = parse_family_choices(text, out);
    if (!err.empty()) err = path + ": " + err;
  }
  if (!err.empty()) {
    out->clear();
    std::string kept = path + ".bad";
    if (::rename(path.c_str(), kept.c_str()) == 0) err += " (kept as " + kept + ")";
  }
  return err;
}

FamilySelectionSaver::FamilySelectionSaver(uv_loop_t* loop, const FamilySelection& selection)
    : selection_(selection), loop_(loop), soon_(loop) {
  soon_.unref();
}

FamilySelectionSaver::~FamilySelectionSaver() = default;

void FamilySelectionSaver::changed() {
  if (path_.empty() || selection_.version() == written_version_) return;
  if (writing_) {
    again_ = true;
    return;
  }
  if (armed_) return;
  armed_ = true;
  soon_.start(kCoalesceMs, 0, [this] {
    armed_ = false;
    if (!writing_) write({});
  });
}

void FamilySelectionSaver::save(std::function<void(std::string)> done) {
  if (path_.empty()) {
    done("");
    return;
  }
  if (writing_) {
    again_ = true;
    waiting_.push_back(std::move(done));
    return;
  }
  soon_.stop();
  armed_ = false;
  write({std::move(done)});
}

void FamilySelectionSaver::write(std::vector<std::function<void(std::string)>> waiting) {
  if (!worker_) worker_ = std::make_unique<WorkerThread>(loop_);
  writing_ = true;
  again_ = false;
  written_version_ = selection_.version();
  auto text = std::make_shared<std::string>(family_choices_json(selection_.families()));
  auto result = std::make_shared<std::string>();
  worker_->post([path = path_, text, result] { *result = write_atomically(path, *text); },
                [this, result, waiting = std::move(waiting)] {
                  writing_ = false;
                  if (!result->empty()) {
                    ++write_errors_;
                    log::warn("metric_selection_not_saved", {{"error", *result}});
                  }
                  for (const auto& done : waiting)
                    done(*result);
                  if (!waiting_.empty() || (again_ && selection_.version() != written_version_)) {
                    write(std::exchange(waiting_, {}));
                  }
                });
}

}  // namespace edgemon::bus
