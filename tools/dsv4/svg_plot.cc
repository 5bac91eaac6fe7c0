#include "svg_plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "io/files.h"

namespace dsv4 {

namespace {

constexpr double kWidth = 820, kHeight = 520;
constexpr double kLeft = 90, kRight = 250, kTop = 40, kBottom = 60;  // margins; the legend sits right
constexpr const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                   "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
// Markers show the measured points of a sparse series (contexts, validations); on a per-step curve they
// would bury the line.
constexpr size_t kMaxMarkers = 64;

std::string escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '<') out += "&lt;";
    else if (ch == '>') out += "&gt;";
    else if (ch == '&') out += "&amp;";
    else out += ch;
  }
  return out;
}

std::string tick_label(double v, bool bytes) {
  if (bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (v >= 1024 && u < 4) v /= 1024, ++u;
    return fmt::format("{:g} {}", v, units[u]);
  }
  if (v >= 1e6) return fmt::format("{:g}M", v / 1e6);
  if (v >= 1e3) return fmt::format("{:g}K", v / 1e3);
  return fmt::format("{:g}", v);
}

// Context lengths are powers of two: 4K = 4096, 1M = 1,048,576.
std::string context_label(double v) {
  if (v >= 1048576) return fmt::format("{:g}M", v / 1048576);
  if (v >= 1024) return fmt::format("{:g}K", v / 1024);
  return fmt::format("{:g}", v);
}

// A grid line: its place in the axis' scale (log2 of x or log10 of y on log axes, else the value) and text.
struct Tick {
  double at;
  std::string label;
};

struct Axis {
  double lo, hi;  // the range, in the axis' scale
  std::vector<Tick> ticks;
};

// x on log axes: whole powers of two, one tick each (every second one past twelve).
Axis log2_axis(double lo, double hi) {
  const double e0 = std::floor(std::log2(lo)), e1 = std::max(std::ceil(std::log2(hi)), e0 + 1);
  Axis a{e0, e1, {}};
  const int step = e1 - e0 > 12 ? 2 : 1;
  for (double e = e0; e <= e1; e += step) a.ticks.push_back({e, context_label(std::exp2(e))});
  return a;
}

// y on log axes: whole decades; bytes are labelled at powers of two, every `step`-th so that about eight are.
Axis log10_axis(double lo, double hi, bool bytes) {
  const double e0 = std::floor(std::log10(lo)), e1 = std::max(std::ceil(std::log10(hi)), e0 + 1);
  Axis a{e0, e1, {}};
  if (bytes) {
    const double b0 = e0 * std::log2(10.0), b1 = e1 * std::log2(10.0);
    const int step = std::max(1, int(std::ceil((b1 - b0) / 8)));
    for (int e = int(std::ceil(b0)); e <= int(std::floor(b1)); ++e)
      if (((e % step) + step) % step == 0) a.ticks.push_back({std::log10(std::exp2(e)), tick_label(std::exp2(e), true)});
  } else {
    for (double e = e0; e <= e1; ++e) a.ticks.push_back({e, tick_label(std::pow(10.0, e), false)});
  }
  return a;
}

// Linear axes: the data's range (a single value gets a unit-wide one) with about five round ticks,
// 1, 2 or 5 × 10^k apart.
Axis linear_axis(double lo, double hi, bool bytes) {
  if (hi - lo < 1e-6 * std::max(1.0, std::abs(hi))) lo -= 0.5, hi += 0.5;
  const double raw = (hi - lo) / 5, mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * mag;
  for (double m : {1.0, 2.0, 5.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  Axis a{lo, hi, {}};
  for (double k = std::ceil(lo / step); k * step <= hi + 1e-9 * step; ++k)  // k · step: 0 is exactly 0
    a.ticks.push_back({k * step, tick_label(k * step, bytes)});
  return a;
}

}  // namespace

Status write_svg_plot(const PlotSpec& spec, const std::string& path) {
  const bool log = spec.log_axes;
  const auto drawn = [&](double x, double y) { return log ? x > 0 && y > 0 : std::isfinite(x) && std::isfinite(y); };
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const PlotSeries& s : spec.series)
    for (const auto& [x, y] : s.points) {
      if (!drawn(x, y)) continue;
      x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  if (x0 > x1) x0 = x1 = y0 = y1 = 1;  // nothing to draw: empty axes
  const Axis ax = log ? log2_axis(x0, x1) : linear_axis(x0, x1, false);
  const Axis ay = log ? log10_axis(y0, y1, spec.y_bytes) : linear_axis(y0, y1, spec.y_bytes);
  const double pw = kWidth - kLeft - kRight, ph = kHeight - kTop - kBottom;
  // Positions from values in each axis' scale; `at` from data values.
  const auto px = [&](double sx) { return kLeft + (sx - ax.lo) / (ax.hi - ax.lo) * pw; };
  const auto py = [&](double sy) { return kTop + ph - (sy - ay.lo) / (ay.hi - ay.lo) * ph; };
  const auto at = [&](double x, double y) {
    return log ? std::pair{px(std::log2(x)), py(std::log10(y))} : std::pair{px(x), py(y)};
  };

  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      kWidth, kHeight);
  svg += fmt::format("<text x=\"{}\" y=\"22\" font-size=\"15\" text-anchor=\"middle\">{}</text>\n", kLeft + pw / 2,
                     escape(spec.title));
  for (const Tick& t : ax.ticks) {
    const double x = px(t.at);
    svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#ddd\"/>\n", x, kTop, kTop + ph);
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", x, kTop + ph + 18, t.label);
  }
  for (const Tick& t : ay.ticks) {
    const double y = py(t.at);
    svg += fmt::format("<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#ddd\"/>\n", kLeft, y, kLeft + pw);
    svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", kLeft - 6, y + 4, t.label);
  }
  svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"black\"/>\n", kLeft,
                     kTop, pw, ph);
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", kLeft + pw / 2, kHeight - 15,
                     escape(spec.x_label));
  svg += fmt::format("<text transform=\"translate(18 {}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
                     kTop + ph / 2, escape(spec.y_label));
  // Series and legend.
  for (size_t i = 0; i < spec.series.size(); ++i) {
    const PlotSeries& s = spec.series[i];
    const char* color = kColors[i % std::size(kColors)];
    const char* dash = i >= std::size(kColors) ? " stroke-dasharray=\"6 3\"" : "";
    std::string pts, marks;
    for (const auto& [x, y] : s.points) {
      if (!drawn(x, y)) continue;
      const auto [cx, cy] = at(x, y);
      pts += fmt::format("{:.1f},{:.1f} ", cx, cy);
      if (s.points.size() <= kMaxMarkers)
        marks += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"{}\"/>\n", cx, cy, color);
    }
    svg += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{}/>\n", pts, color, dash);
    svg += marks;
    const double ly = kTop + 10 + 18 * double(i);
    svg += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"{3}\" stroke-width=\"2\"{4}/>\n",
                       kLeft + pw + 12, ly, kLeft + pw + 32, color, dash);
    svg += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", kLeft + pw + 38, ly + 4, escape(s.name));
  }
  svg += "</svg>\n";
  return write_file_atomically(path, svg);
}

}  // namespace dsv4
