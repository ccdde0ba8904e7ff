// A program outside the tree that serves a trained model through the installed library
// (docs/library.md): it loads a model archive written by `dagrad fit`, reads raw feature rows as
// CSV from standard input (a header of input column names, then one row per example; no quoting),
// encodes them through the model's own preprocessing (its vocabularies, boundaries and means, all
// in the archive) and prints the named value for each row, one line per row.
//
//   c++ -std=c++20 -O2 score.cpp $(pkg-config --cflags --libs dagrad) -o score
//   printf 'user,item\nalice,apples\n' | ./score out/likes/model.dagrad score
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "graph/error.hpp"
#include "models/model.hpp"

namespace {

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, ',')) out.push_back(cell);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: score MODEL.dagrad VALUE < rows.csv\n");
    return 2;
  }
  try {
    auto model = dagrad::Model::load(argv[1]);
    const int target = model->value(argv[2]);  // a layer name of the model file

    std::string line;
    if (!std::getline(std::cin, line)) throw dagrad::UserError("standard input: no header row");
    const std::vector<std::string> names = split_csv(line);
    std::vector<dagrad::ColumnType> types;
    for (const auto& name : names) {
      bool known = false;
      for (const auto& [input, type] : model->inputs())
        if (input == name) {
          types.push_back(type);
          known = true;
        }
      if (!known) throw dagrad::UserError("standard input: column '" + name + "' is not an input of the model");
    }
    std::vector<dagrad::Column> columns;
    for (auto t : types)
      columns.push_back(t == dagrad::ColumnType::String ? dagrad::Column(dagrad::StringColumn{})
                        : t == dagrad::ColumnType::Int  ? dagrad::Column(dagrad::IntColumn{})
                                                        : dagrad::Column(dagrad::FloatColumn{}));
    for (int row = 2; std::getline(std::cin, line); ++row) {
      const std::vector<std::string> cells = split_csv(line);
      if (cells.size() != names.size())
        throw dagrad::UserError("standard input line " + std::to_string(row) + ": " + std::to_string(cells.size()) +
                                " cells for " + std::to_string(names.size()) + " columns");
      for (size_t c = 0; c < cells.size(); ++c) {
        try {
          if (auto* s = std::get_if<dagrad::StringColumn>(&columns[c])) s->push_back(cells[c]);
          else if (auto* i = std::get_if<dagrad::IntColumn>(&columns[c])) i->push_back(std::stoll(cells[c]));
          else std::get<dagrad::FloatColumn>(columns[c]).push_back(std::stof(cells[c]));
        } catch (const std::logic_error&) {
          throw dagrad::UserError("standard input line " + std::to_string(row) + ", column '" + names[c] +
                                  "': expected a number, got '" + cells[c] + "'");
        }
      }
    }
    dagrad::Table rows("requests");
    for (size_t c = 0; c < names.size(); ++c) rows.add(names[c], std::move(columns[c]));
    const dagrad::Tensor out = model->predict(rows, target, 1024);
    const int64_t width = out.dim(1);
    for (int64_t r = 0; r < out.dim(0); ++r) {
      for (int64_t c = 0; c < width; ++c) std::printf(c ? ",%.6g" : "%.6g", out.f32()[r * width + c]);
      std::printf("\n");
    }
    return 0;
  } catch (const dagrad::UserError& e) {
    std::fprintf(stderr, "score: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "score: failure: %s\n", e.what());
    return 1;
  }
}
