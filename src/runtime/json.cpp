// Strict JSON reader and writer (see json.h).
#include "tcltorch/json.h"
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace tcltorch {

const Json* Json::find(std::string_view key) const {
  for (auto& kv : obj)
    if (kv.first == key) return &kv.second;
  return nullptr;
}
Json Json::string(std::string s) {
  Json j;
  j.kind = String;
  j.str = std::move(s);
  return j;
}
Json Json::integer(int64_t v) {
  Json j;
  j.kind = Number;
  j.isInt = true;
  j.i = v;
  j.num = double(v);
  return j;
}

namespace {

class Reader {
 public:
  Reader(std::string_view t, int maxDepth) : s_(t), maxDepth_(maxDepth) {}

  Json document() {
    space();
    Json v = value(0);
    space();
    if (p_ != s_.size()) error("unexpected text after the value");
    return v;
  }

 private:
  std::string_view s_;
  size_t p_ = 0;
  int maxDepth_;

  [[noreturn]] void error(const std::string& m) { throw JsonError(m, p_); }
  bool at(char c) const { return p_ < s_.size() && s_[p_] == c; }
  void space() {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\n' || s_[p_] == '\r')) ++p_;
  }
  void expect(char c) {
    if (!at(c)) error(std::string("expected '") + c + "'");
    ++p_;
  }
  void word(const char* w) {
    for (const char* q = w; *q; ++q, ++p_)
      if (p_ >= s_.size() || s_[p_] != *q) error("invalid literal");
  }

  Json value(int depth) {
    if (depth > maxDepth_) error("nested too deeply");
    if (p_ >= s_.size()) error("unexpected end of text");
    Json v;
    switch (s_[p_]) {
      case '{': {
        v.kind = Json::Object;
        ++p_;
        space();
        if (at('}')) { ++p_; return v; }
        for (;;) {
          space();
          if (!at('"')) error("expected a string key");
          size_t keyAt = p_;
          std::string k = string();
          for (auto& kv : v.obj)
            if (kv.first == k) throw JsonError("duplicate key \"" + k + "\"", keyAt);
          space();
          expect(':');
          space();
          v.obj.emplace_back(std::move(k), value(depth + 1));
          space();
          if (at(',')) { ++p_; continue; }
          expect('}');
          return v;
        }
      }
      case '[': {
        v.kind = Json::Array;
        ++p_;
        space();
        if (at(']')) { ++p_; return v; }
        for (;;) {
          space();
          v.arr.push_back(value(depth + 1));
          space();
          if (at(',')) { ++p_; continue; }
          expect(']');
          return v;
        }
      }
      case '"':
        v.kind = Json::String;
        v.str = string();
        return v;
      case 't': word("true"); v.kind = Json::Bool; v.b = true; return v;
      case 'f': word("false"); v.kind = Json::Bool; return v;
      case 'n': word("null"); return v;
      default:
        if (s_[p_] == '-' || (s_[p_] >= '0' && s_[p_] <= '9')) return number();
        error("unexpected character");
    }
  }

  bool digit() const { return p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9'; }

  Json number() {
    size_t start = p_;
    bool integral = true;
    if (at('-')) ++p_;
    if (at('0')) ++p_;
    else if (digit()) while (digit()) ++p_;
    else error("invalid number");
    if (at('.')) {
      integral = false;
      ++p_;
      if (!digit()) error("invalid number");
      while (digit()) ++p_;
    }
    if (at('e') || at('E')) {
      integral = false;
      ++p_;
      if (at('+') || at('-')) ++p_;
      if (!digit()) error("invalid number");
      while (digit()) ++p_;
    }
    std::string text(s_.substr(start, p_ - start));
    Json v;
    v.kind = Json::Number;
    v.num = std::strtod(text.c_str(), nullptr);
    if (integral) {
      errno = 0;
      char* end = nullptr;
      long long x = std::strtoll(text.c_str(), &end, 10);
      if (errno == 0 && *end == 0) {
        v.isInt = true;
        v.i = x;
      }
    }
    return v;
  }

  unsigned hex4() {
    if (p_ + 4 > s_.size()) error("bad \\u escape");
    unsigned u = 0;
    for (int k = 0; k < 4; ++k, ++p_) {
      char c = s_[p_];
      u <<= 4;
      if (c >= '0' && c <= '9') u |= unsigned(c - '0');
      else if (c >= 'a' && c <= 'f') u |= unsigned(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') u |= unsigned(c - 'A' + 10);
      else error("bad \\u escape");
    }
    return u;
  }

  static void utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += char(cp);
    } else if (cp < 0x800) {
      out += char(0xC0 | cp >> 6);
      out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += char(0xE0 | cp >> 12);
      out += char(0x80 | (cp >> 6 & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    } else {
      out += char(0xF0 | cp >> 18);
      out += char(0x80 | (cp >> 12 & 0x3F));
      out += char(0x80 | (cp >> 6 & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    }
  }

  // One UTF-8 sequence, checked (no overlong forms, no surrogates, <= U+10FFFF).
  void rawUtf8(std::string& out) {
    auto b = [&](size_t k) { return p_ + k < s_.size() ? static_cast<unsigned char>(s_[p_ + k]) : 0u; };
    unsigned c = b(0);
    int n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
    if (n == 0 || c > 0xF4) error("invalid UTF-8");
    unsigned cp = c & (0x7F >> n);
    for (int k = 1; k < n; ++k) {
      if ((b(k) & 0xC0) != 0x80) error("invalid UTF-8");
      cp = cp << 6 | (b(k) & 0x3F);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
      error("invalid UTF-8");
    out.append(s_.data() + p_, size_t(n));
    p_ += size_t(n);
  }

  std::string string() {
    ++p_;  // the opening quote
    std::string out;
    for (;;) {
      if (p_ >= s_.size()) error("unterminated string");
      unsigned char c = static_cast<unsigned char>(s_[p_]);
      if (c == '"') { ++p_; return out; }
      if (c < 0x20) error("control character in string");
      if (c >= 0x80) { rawUtf8(out); continue; }
      if (c != '\\') { out += char(c); ++p_; continue; }
      ++p_;
      if (p_ >= s_.size()) error("unterminated string");
      char e = s_[p_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned u = hex4();
          if (u >= 0xDC00 && u <= 0xDFFF) error("unpaired surrogate in \\u escape");
          if (u >= 0xD800 && u <= 0xDBFF) {
            if (p_ + 2 > s_.size() || s_[p_] != '\\' || s_[p_ + 1] != 'u') error("unpaired surrogate in \\u escape");
            p_ += 2;
            unsigned lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) error("unpaired surrogate in \\u escape");
            u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
          }
          utf8(out, u);
          break;
        }
        default: --p_; error("bad escape in string");
      }
    }
  }
};

void writeString(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += char(c);
        }
    }
  }
  out += '"';
}

void write(std::string& out, const Json& v) {
  switch (v.kind) {
    case Json::Null: out += "null"; break;
    case Json::Bool: out += v.b ? "true" : "false"; break;
    case Json::Number:
      if (v.isInt) {
        out += std::to_string(v.i);
      } else {
        if (!std::isfinite(v.num)) throw JsonError("JSON has no NaN or infinity", out.size());
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", v.num);
        out += buf;
      }
      break;
    case Json::String: writeString(out, v.str); break;
    case Json::Array:
      out += '[';
      for (size_t k = 0; k < v.arr.size(); ++k) {
        if (k) out += ',';
        write(out, v.arr[k]);
      }
      out += ']';
      break;
    case Json::Object:
      out += '{';
      for (size_t k = 0; k < v.obj.size(); ++k) {
        if (k) out += ',';
        writeString(out, v.obj[k].first);
        out += ':';
        write(out, v.obj[k].second);
      }
      out += '}';
      break;
  }
}

}  // namespace

Json parseJson(std::string_view text, int maxDepth) { return Reader(text, maxDepth).document(); }

std::string writeJson(const Json& v) {
  std::string out;
  write(out, v);
  return out;
}

}  // namespace tcltorch
