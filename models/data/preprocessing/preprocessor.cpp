#include "models/data/preprocessing/preprocessor.hpp"

namespace dagrad {

PreprocessorRegistry& PreprocessorRegistry::instance() {
  static PreprocessorRegistry r;
  return r;
}

const Schema& PreprocessorRegistry::common() {
  static const Schema s{
      Key::string("type", "the preprocessing layer's type").required(),
      Key::column("input", "the input column it reads (one of the model's `inputs`)").required(),
      Key::choice("adapt", {"interactions", "train", "candidates"}, "the table whose column it adapts on")
          .otherwise("interactions")};
  return s;
}

}  // namespace dagrad
