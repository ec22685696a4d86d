// What the benchmarks measure a server with: latency percentiles and a
// process's memory as /proc reports it.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace tollgate::bench {

// The p-th (0 to 1) of `v`, nearest rank below; 0 for none.
inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

// A field of /proc/PID/status in kB ("VmRSS:", "VmHWM:"); -1 when absent.
inline long rss_kb(int pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field));
  }
  return -1;
}

}  // namespace tollgate::bench
