// A small log–log line chart written as SVG: memory or speed against context length, for `dsv4 kv` and
// `dsv4 bench --long`. No dependencies; one file, readable in a browser or embedded in Markdown.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace dsv4 {

struct PlotSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y), both > 0
};

struct PlotSpec {
  std::string title, x_label, y_label;
  bool y_bytes = true;  // y tick labels as KiB/MiB/GiB (else plain numbers)
  std::vector<PlotSeries> series;
};

// Writes the chart; an error when the file cannot be written or no point is positive.
Status write_svg_plot(const PlotSpec& spec, const std::string& path);

}  // namespace dsv4
