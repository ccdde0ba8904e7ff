// dagrad export: a trained model's vectors and weights as NumPy .npy files, for programs that do
// not link dagrad: the candidate set's vectors and ids (saved with the model by `dagrad fit`), and
// every parameter (the towers' weights and embedding tables), and with --queries the query tower's
// vectors for rows of raw features in a CSV file.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "cli/args.hpp"
#include "cli/candidate_index.hpp"
#include "cli/commands.hpp"
#include "graph/dnnl_context.hpp"
#include "graph/error.hpp"
#include "models/io/archive.hpp"
#include "models/io/npy.hpp"
#include "models/data/table.hpp"
#include "models/model.hpp"
#include "models/task.hpp"

namespace dagrad::cli {
namespace {

const char* kExportHelp =
    "usage: dagrad export MODEL.dagrad --to DIR [--queries FILE.csv]\n\n"
    "Writes the model's arrays as NumPy .npy files (C order, little-endian) into DIR (made if absent):\n"
    "  candidate_vectors.npy  f32 [candidates, d]: the candidate tower's output for each candidate saved\n"
    "                         with the model (Retrieval models trained on data with a candidate table)\n"
    "  candidate_ids.npy      i64 [candidates]: their ids (the task's candidate_id column), same order\n"
    "  weights/NAME.npy       every parameter, NAME its node name with '/' written as '.'\n"
    "                         (query.dense_0.kernel.npy is layer query's first kernel)\n"
    "  query_vectors.npy      f32 [rows, d], with --queries: the query tower's output for each row of\n"
    "                         FILE.csv (or .tsv; a header naming model inputs, the columns the query\n"
    "                         tower needs among them), through the model's own preprocessing, in file order\n"
    "Each file is written to a temporary name and renamed. Exit 2 for a bad model file or DIR.\n";

// The columns of `path` (CSV, or TSV by its name) that are model inputs, read with the model's types.
Table read_inputs(const Model& m, const std::string& path) {
  std::ifstream f(path);
  std::string header;
  if (!f || !std::getline(f, header)) throw UserError("--queries " + path + ": cannot read its header line");
  if (!header.empty() && header.back() == '\r') header.pop_back();
  const char sep = path.size() > 4 && path.compare(path.size() - 4, 4, ".tsv") == 0 ? '\t' : ',';
  std::set<std::string> names;
  std::stringstream hs(header);
  for (std::string field; std::getline(hs, field, sep);) names.insert(field);
  std::map<std::string, ColumnType> types;
  for (const auto& [name, type] : m.inputs())
    if (names.count(name)) types[name] = type;
  if (types.empty()) throw UserError("--queries " + path + ": its header names none of the model's inputs");
  return read_csv(path, types);
}

}  // namespace

int cmd_export(int argc, char** argv) {
  Args a(argc, argv, {"to", "queries"}, {});
  if (a.help()) {
    std::fputs(kExportHelp, stdout);
    return 0;
  }
  if (a.positional().size() != 1 || !a.has("to")) {
    std::fputs(kExportHelp, stderr);
    return 2;
  }
  namespace fs = std::filesystem;
  const std::string dir = a.get("to");
  std::error_code ec;
  const auto st = fs::symlink_status(dir, ec);
  if (!ec && fs::is_symlink(st))
    throw UserError("--to " + dir + ": is a symbolic link; give the folder itself (export never writes through a link)");
  if (!ec && fs::exists(st) && !fs::is_directory(st))
    throw UserError("--to " + dir + ": exists and is not a directory (export writes several files into a folder)");
  auto model = Model::load(a.positional()[0]);
  const fs::path parent = fs::path(dir).parent_path();
  if (!parent.empty() && !fs::is_directory(parent))
    throw UserError("--to " + dir + ": the folder " + parent.string() + " does not exist");
  fs::create_directories(fs::path(dir) / "weights", ec);
  if (ec) throw UserError("--to " + dir + ": cannot make the folder: " + ec.message());

  int files = 0;
  if (model->candidate_vectors().defined()) {
    write_file_atomic(dir + "/candidate_vectors.npy", npy_bytes(model->candidate_vectors()));
    const IntColumn& ids = model->serving_candidates().ints(model->task().retrieval()->candidate_id_column());
    write_file_atomic(dir + "/candidate_ids.npy", npy_bytes(ids, {static_cast<int64_t>(ids.size())}));
    files += 2;
  }
  if (a.has("queries")) {
    const RetrievalTask* r = model->task().retrieval();
    if (!r) throw UserError("--queries: model '" + model->name() + "' has no Retrieval task, so no query tower");
    const Table t = read_inputs(*model, a.get("queries"));
    Tensor q = t.rows() ? model->predict(t, r->query_node(), 1024)
                        : Tensor({0, model->graph().node(r->query_node()).type.shape.back()});
    write_file_atomic(dir + "/query_vectors.npy", npy_bytes(q));
    ++files;
  }
  Graph& g = model->graph();
  for (int id : g.params()) {
    std::string name = g.node(id).name;
    for (char& c : name)
      if (c == '/') c = '.';
    write_file_atomic(dir + "/weights/" + name + ".npy", npy_bytes(g.param_value(id)));
    ++files;
  }
  std::fprintf(stderr, "exported %d arrays of model '%s' to %s\n", files, model->name().c_str(), dir.c_str());
  return 0;
}

namespace {

const char* kIndexHelp =
    "usage: dagrad index MODEL.dagrad [--hnsw-m 16] [--hnsw-ef-construction 200] [--hnsw-ef 200]\n\n"
    "Builds an HNSW index (hnswlib) over the candidate vectors saved in MODEL.dagrad and saves it in the\n"
    "same file (rewritten atomically), so that `dagrad serve` loads it instead of building it at start-up.\n"
    "--hnsw-ef is the default search ef kept with it (`dagrad serve --hnsw-ef` overrides it).\n";

}  // namespace

int cmd_index(int argc, char** argv) {
  Args a(argc, argv, {"hnsw-m", "hnsw-ef-construction", "hnsw-ef"}, {});
  if (a.help()) {
    std::fputs(kIndexHelp, stdout);
    return 0;
  }
  if (a.positional().size() != 1) {
    std::fputs(kIndexHelp, stderr);
    return 2;
  }
  const std::string path = a.positional()[0];
  auto model = Model::load(path);
  if (!model->candidate_vectors().defined())
    throw UserError(path + ": the model holds no candidate vectors (a Retrieval model trained with `dagrad fit` on data "
                           "with a candidate table has them)");
  IndexOptions o;
  o.kind = "hnsw";
  o.m = a.get_int("hnsw-m", o.m, 2);
  o.ef_construction = a.get_int("hnsw-ef-construction", o.ef_construction, 1);
  o.ef_search = a.get_int("hnsw-ef", o.ef_search, 1);
  o.threads = std::max(1, num_threads());
  auto index = build_candidate_index(model->candidate_vectors(), o);
  const std::string dir = std::filesystem::path(path).parent_path().empty() ? "." : std::filesystem::path(path).parent_path().string();
  ArchiveWriter w;
  model->write(w);
  w.put_text("serving/index/hnsw", hnsw_index_bytes(*index, dir));
  w.put_int("serving/index/m", o.m);
  w.put_int("serving/index/ef_construction", o.ef_construction);
  w.put_int("serving/index/ef", o.ef_search);
  w.save(path);
  std::fprintf(stderr, "saved %s over %lld candidates in %s\n", index->describe().c_str(),
               static_cast<long long>(model->candidate_vectors().dim(0)), path.c_str());
  return 0;
}

}  // namespace dagrad::cli
