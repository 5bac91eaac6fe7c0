// A small line chart written as SVG: memory or speed against context length on log–log axes (`dsv4 kv`,
// `dsv4 bench --long`), or loss against the step on linear axes (`dsv4 train`). No dependencies; one file,
// readable in a browser or embedded in Markdown.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace dsv4 {

struct PlotSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y); log axes skip points that are not > 0
};

struct PlotSpec {
  std::string title, x_label, y_label;
  bool y_bytes = true;  // y tick labels as KiB/MiB/GiB (else plain numbers)
  std::vector<PlotSeries> series;
  bool log_axes = true;  // x in powers of two, y in decades; else linear axes with round ticks
};

// Writes the chart atomically (a run that rewrites it as it goes never leaves half a file); with no
// point to draw, the axes alone. An error when the file cannot be written.
Status write_svg_plot(const PlotSpec& spec, const std::string& path);

}  // namespace dsv4
