// TensorBoard event files and PNG, by hand (see include/tcltorch/event_file.h).
#include "tcltorch/event_file.h"
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace tcltorch::events {

// ---- checksums ---------------------------------------------------------------

namespace {
struct CrcTable {
  uint32_t t[256];
  explicit CrcTable(uint32_t poly) {  // reflected polynomial
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = c & 1 ? poly ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
  }
  uint32_t run(const void* data, size_t n, uint32_t crc) const {
    auto* p = static_cast<const unsigned char*>(data);
    crc = ~crc;
    for (size_t i = 0; i < n; ++i) crc = t[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
  }
};
const CrcTable kCastagnoli(0x82F63B78u), kZlib(0xEDB88320u);
}  // namespace

uint32_t crc32c(const void* data, size_t n) { return kCastagnoli.run(data, n, 0); }
uint32_t crc32(const void* data, size_t n, uint32_t crc) { return kZlib.run(data, n, crc); }
uint32_t maskedCrc32c(const void* data, size_t n) {
  uint32_t c = crc32c(data, n);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

static void putLE(std::string& s, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s.push_back(char(v >> (8 * i)));
}
static void putBE32(std::string& s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s.push_back(char(v >> (8 * i)));
}

std::string tfrecord(const std::string& data) {
  std::string r, len;
  putLE(len, data.size(), 8);
  r += len;
  putLE(r, maskedCrc32c(len.data(), len.size()), 4);
  r += data;
  putLE(r, maskedCrc32c(data.data(), data.size()), 4);
  return r;
}

// ---- protobuf ------------------------------------------------------------------

static void putVarint(std::string& s, uint64_t v) {
  while (v >= 0x80) {
    s.push_back(char(v | 0x80));
    v >>= 7;
  }
  s.push_back(char(v));
}
Proto& Proto::varint(int field, uint64_t v) {
  putVarint(b, uint64_t(field) << 3 | 0);
  putVarint(b, v);
  return *this;
}
Proto& Proto::fixed64(int field, double v) {
  uint64_t u;
  std::memcpy(&u, &v, 8);
  putVarint(b, uint64_t(field) << 3 | 1);
  putLE(b, u, 8);
  return *this;
}
Proto& Proto::fixed32(int field, float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  putVarint(b, uint64_t(field) << 3 | 5);
  putLE(b, u, 4);
  return *this;
}
Proto& Proto::bytes(int field, const std::string& s) {
  putVarint(b, uint64_t(field) << 3 | 2);
  putVarint(b, s.size());
  b += s;
  return *this;
}
Proto& Proto::packedDoubles(int field, const std::vector<double>& v) {
  Proto p;
  for (double d : v) {
    uint64_t u;
    std::memcpy(&u, &d, 8);
    putLE(p.b, u, 8);
  }
  return bytes(field, p.b);
}

// Event: wall_time 1, step 2, file_version 3, summary 5. Summary: value 1.
// Summary.Value: tag 1, simple_value 2, image 4, histo 5, tensor 8, metadata 9.
static std::string event(double wallTime, int64_t step, const Proto& value) {
  return Proto().fixed64(1, wallTime).varint(2, uint64_t(step)).bytes(5, Proto().bytes(1, value.b).b).b;
}

std::string fileVersionEvent(double wallTime) {
  return Proto().fixed64(1, wallTime).bytes(3, "brain.Event:2").b;
}

std::string scalarEvent(double wallTime, int64_t step, const std::string& tag, float value) {
  return event(wallTime, step, Proto().bytes(1, tag).fixed32(2, value));
}

std::string histogramEvent(double wallTime, int64_t step, const std::string& tag, const Histogram& h) {
  // HistogramProto: min 1, max 2, num 3, sum 4, sum_squares 5, bucket_limit 6, bucket 7.
  Proto histo;
  histo.fixed64(1, h.min).fixed64(2, h.max).fixed64(3, h.num).fixed64(4, h.sum).fixed64(5, h.sumSquares);
  histo.packedDoubles(6, h.limits).packedDoubles(7, h.counts);
  return event(wallTime, step, Proto().bytes(1, tag).bytes(5, histo.b));
}

std::string imageEvent(double wallTime, int64_t step, const std::string& tag, int height, int width,
                       int channels, const std::string& png) {
  // Image: height 1, width 2, colorspace 3, encoded_image_string 4.
  Proto image;
  image.varint(1, uint64_t(height)).varint(2, uint64_t(width)).varint(3, uint64_t(channels)).bytes(4, png);
  return event(wallTime, step, Proto().bytes(1, tag).bytes(4, image.b));
}

std::string textEvent(double wallTime, int64_t step, const std::string& tag, const std::string& text) {
  // The text plugin reads a string tensor: metadata.plugin_data.plugin_name "text";
  // TensorProto: dtype 1 (DT_STRING = 7), tensor_shape 2 (dim 2 {size 1}), string_val 8.
  Proto metadata;
  metadata.bytes(1, Proto().bytes(1, "text").b);
  Proto shape;
  shape.bytes(2, Proto().varint(1, 1).b);
  Proto tensor;
  tensor.varint(1, 7).bytes(2, shape.b).bytes(8, text);
  return event(wallTime, step, Proto().bytes(1, tag).bytes(8, tensor.b).bytes(9, metadata.b));
}

// ---- PNG -------------------------------------------------------------------------

static void chunk(std::string& out, const char* type, const std::string& data) {
  putBE32(out, uint32_t(data.size()));
  std::string body(type, 4);
  body += data;
  out += body;
  putBE32(out, crc32(body.data(), body.size()));
}

std::string png(const uint8_t* pixels, int height, int width, int channels, Deflate deflate, void* ctx) {
  static const unsigned char kColorType[] = {0, 0, 4, 2, 6};  // by channels
  std::string ihdr;
  putBE32(ihdr, uint32_t(width));
  putBE32(ihdr, uint32_t(height));
  ihdr += std::string{char(8), char(kColorType[channels]), 0, 0, 0};  // depth, type, deflate, filter, no interlace
  size_t row = size_t(width) * size_t(channels);
  std::string raw;
  raw.reserve((row + 1) * size_t(height));
  for (int y = 0; y < height; ++y) {
    raw.push_back(0);  // filter: none
    raw.append(reinterpret_cast<const char*>(pixels) + row * size_t(y), row);
  }
  std::string out("\x89PNG\r\n\x1a\n", 8);
  chunk(out, "IHDR", ihdr);
  chunk(out, "IDAT", deflate(raw, ctx));
  chunk(out, "IEND", "");
  return out;
}

// ---- the file --------------------------------------------------------------------

static void makeDirs(const std::string& dir) {
  std::string cur;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    cur = dir.substr(0, pos);
    if (cur.empty() || mkdir(cur.c_str(), 0777) == 0 || errno == EEXIST) continue;
    throw std::runtime_error("cannot create folder \"" + cur + "\": " + std::strerror(errno));
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw std::runtime_error("\"" + dir + "\" is not a folder");
}

static double now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

EventFile::EventFile(const std::string& dir, double flushSecs) : flushSecs_(flushSecs) {
  makeDirs(dir);
  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  double t = now();
  std::string base = dir + "/events.out.tfevents." + std::to_string(int64_t(t)) + "." + host;
  // A second writer in the same second gets its own file (TensorBoard reads every
  // file whose name holds "tfevents").
  for (int k = 0; !f_; ++k) {
    path_ = k ? base + "." + std::to_string(k) : base;
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno == EEXIST && k < 1000) continue;
    if (fd < 0) throw std::runtime_error("cannot create \"" + path_ + "\": " + std::strerror(errno));
    f_ = fdopen(fd, "wb");
  }
  pending_ = tfrecord(fileVersionEvent(t));
  std::unique_lock<std::mutex> lock(mu_);
  writeLocked(lock);
  if (!error_.empty()) throw std::runtime_error(error_);
  thread_ = std::thread([this] { loop(); });
}

EventFile::~EventFile() {
  try {
    close();
  } catch (...) {
  }
}

void EventFile::writeLocked(std::unique_lock<std::mutex>&) {
  if (!f_ || pending_.empty()) return;
  if (std::fwrite(pending_.data(), 1, pending_.size(), f_) != pending_.size() || std::fflush(f_) != 0)
    error_ = "cannot write \"" + path_ + "\": " + std::strerror(errno);
  pending_.clear();
}

void EventFile::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::duration<double>(flushSecs_));
    writeLocked(lock);
  }
}

void EventFile::add(const std::string& ev) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!error_.empty()) throw std::runtime_error(error_);
  if (!f_) throw std::runtime_error("the event file \"" + path_ + "\" is closed");
  pending_ += tfrecord(ev);
}

void EventFile::flush() {
  std::unique_lock<std::mutex> lock(mu_);
  writeLocked(lock);
  if (!error_.empty()) throw std::runtime_error(error_);
}

void EventFile::close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::unique_lock<std::mutex> lock(mu_);
  writeLocked(lock);
  if (f_ && std::fclose(f_) != 0 && error_.empty()) error_ = "cannot close \"" + path_ + "\": " + std::strerror(errno);
  f_ = nullptr;
  if (!error_.empty()) {
    std::string e = error_;
    error_.clear();
    throw std::runtime_error(e);
  }
}

}  // namespace tcltorch::events
