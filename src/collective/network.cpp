// Network interface choice: where Gloo (and NCCL's bootstrap) bind, so that
// every host needs no configuration.
#include "c10d.h"
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cstdlib>

namespace tcltorch {

static bool isLoopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

// The local address the kernel would use to reach host:port ("" if none).
static std::string localAddressTowards(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || !res) return "";
  std::string r;
  int fd = ::socket(res->ai_family, SOCK_DGRAM, 0);
  if (fd >= 0 && ::connect(fd, res->ai_addr, res->ai_addrlen) == 0) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    char buf[NI_MAXHOST];
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0 &&
        ::getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, buf, sizeof buf, nullptr, 0, NI_NUMERICHOST) == 0)
      r = buf;
  }
  if (fd >= 0) ::close(fd);
  freeaddrinfo(res);
  return r;
}

std::string interfaceTowards(const std::string& host, int port) {
  std::string local = isLoopback(host) ? "127.0.0.1" : localAddressTowards(host, port);
  if (local.empty()) return "";
  ifaddrs* all = nullptr;
  if (getifaddrs(&all) != 0) return "";
  std::string name;
  for (ifaddrs* i = all; i && name.empty(); i = i->ifa_next) {
    if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6)) continue;
    char buf[NI_MAXHOST];
    socklen_t len = i->ifa_addr->sa_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    if (::getnameinfo(i->ifa_addr, len, buf, sizeof buf, nullptr, 0, NI_NUMERICHOST) == 0 && local == buf)
      name = i->ifa_name;
  }
  freeifaddrs(all);
  return name;
}

// GLOO_SOCKET_IFNAME wins; a loopback master (or a world of one) means
// loopback; otherwise the local address that routes to the master.
std::shared_ptr<::gloo::transport::Device> glooDevice(const DistOptions& o, int size) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"))
    if (*ifname) return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  if (isLoopback(o.masterAddr) || size == 1) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  std::string local = localAddressTowards(o.masterAddr, o.masterPort);
  if (!local.empty()) return c10d::ProcessGroupGloo::createDeviceForHostname(local);
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

}  // namespace tcltorch
