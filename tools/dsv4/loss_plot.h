// The loss curve of a training run as a self-contained SVG: train and validation loss (nats/token)
// against the step, linear axes with a few labelled ticks. No dependency: the markup is written by hand.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace dsv4 {

struct LossSeries {
  std::string name;   // legend text
  std::string color;  // CSS colour
  std::vector<std::pair<double, double>> points;  // (step, loss)
};

std::string loss_curve_svg(const std::vector<LossSeries>& series);

}  // namespace dsv4
