// TensorBoard event files without TensorFlow or protobuf: TFRecord framing
// (length, masked CRC32C of the length, data, masked CRC32C of the data) around
// hand-encoded Event/Summary protobuf messages; and a PNG encoder for image
// summaries. No Tcl here: the commands are in src/commands/summary.cpp.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tcltorch::events {

uint32_t crc32c(const void* data, size_t n);         // Castagnoli (TFRecord)
uint32_t crc32(const void* data, size_t n, uint32_t crc = 0);  // zlib's (PNG chunks)
uint32_t maskedCrc32c(const void* data, size_t n);   // TFRecord's rotate-and-add mask
std::string tfrecord(const std::string& data);        // one framed record

// Protocol buffer wire format, only what Event/Summary need.
struct Proto {
  std::string b;
  Proto& varint(int field, uint64_t v);
  Proto& fixed64(int field, double v);  // double
  Proto& fixed32(int field, float v);   // float
  Proto& bytes(int field, const std::string& s);  // string, bytes, sub-message
  Proto& packedDoubles(int field, const std::vector<double>& v);
};

struct Histogram {
  double min = 0, max = 0, num = 0, sum = 0, sumSquares = 0;
  std::vector<double> limits, counts;  // right edge of each bucket, its count
};

// Event messages (tensorflow/core/util/event.proto, summary.proto).
std::string fileVersionEvent(double wallTime);
std::string scalarEvent(double wallTime, int64_t step, const std::string& tag, float value);
std::string histogramEvent(double wallTime, int64_t step, const std::string& tag, const Histogram& h);
std::string imageEvent(double wallTime, int64_t step, const std::string& tag, int height, int width,
                       int channels, const std::string& png);
std::string textEvent(double wallTime, int64_t step, const std::string& tag, const std::string& text);

// PNG file of 8-bit gray (1), gray+alpha (2), RGB (3) or RGBA (4) pixels; `deflate`
// compresses the scanlines in zlib format (the caller has a zlib: Tcl's).
using Deflate = std::string (*)(const std::string& raw, void* ctx);
std::string png(const uint8_t* pixels, int height, int width, int channels, Deflate deflate, void* ctx);

// An event file: records are buffered and written by a thread every flushSecs,
// on flush() and on close(). The first record is the file version.
class EventFile {
 public:
  // Creates `dir` (and parents) and a new file in it; throws std::runtime_error.
  EventFile(const std::string& dir, double flushSecs);
  ~EventFile();  // close(), errors ignored
  EventFile(const EventFile&) = delete;
  EventFile& operator=(const EventFile&) = delete;
  const std::string& path() const { return path_; }
  void add(const std::string& event);  // throws an earlier write error
  void flush();                          // throws on a write error
  void close();                          // flushes; throws on a write error

 private:
  void writeLocked(std::unique_lock<std::mutex>& lock);  // pending_ -> file
  void loop();
  std::string path_;
  double flushSecs_;
  FILE* f_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string pending_;
  std::string error_;  // a failed background write, reported by the next call
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace tcltorch::events
