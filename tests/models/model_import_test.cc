// Model import against Python's xgboost: models trained and saved by the real xgboost package (in all three of
// its file formats, see make_import_models.py), imported by gyre; the package's model must predict exactly
// (float32 bit for bit) what xgboost itself predicted on rows with NaNs. Also MLflow folders written as
// mlflow.xgboost.log_model writes them, feature-name resolution, errors, and the MLmodel gyre writes.
#include "models/model_import.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace gyre::models {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void Spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::vector<float> Floats(const std::string& path) {
  std::string bytes = Slurp(path);
  std::vector<float> out(bytes.size() / sizeof(float));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
  return out;
}

const std::string* FileOf(const ImportedModel& m, const std::string& name) {
  for (const auto& [n, bytes] : m.files) {
    if (n == name) return &bytes;
  }
  return nullptr;
}

ImportOptions WithFeatures(std::vector<std::string> names) {
  ImportOptions o;
  o.feature_names = std::move(names);
  return o;
}
ImportOptions WithReference(std::string csv) {
  ImportOptions o;
  o.reference_csv = std::move(csv);
  return o;
}

struct Shape {
  int rows = 0, cols = 0, outputs = 0, num_feature = 0;
};

class ModelImportTest : public ::testing::Test {
 protected:
  // The models are trained once per run by Python's xgboost (Debian's python3-xgboost, installed by
  // scripts/bootstrap.sh; /usr/bin/python3 because a python3 earlier on PATH may lack it).
  static void SetUpTestSuite() {
    dir_ = new std::string((fs::temp_directory_path() / fmt::format("gyre-import-{}", ::getpid())).string());
    fs::create_directories(*dir_);
    std::string cmd = fmt::format("/usr/bin/python3 {}/tests/models/make_import_models.py {}", GYRE_SOURCE_DIR, *dir_);
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd << " failed: is python3-xgboost installed (scripts/bootstrap.sh)?";
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  static std::string Path(const std::string& name) { return *dir_ + "/" + name; }
  static Shape ShapeOf(const std::string& kind) {
    Shape s;
    std::istringstream(Slurp(Path(kind + ".shape"))) >> s.rows >> s.cols >> s.outputs >> s.num_feature;
    return s;
  }
  std::string TempDir(const std::string& name) {
    std::string d = Path(fmt::format("{}-{}", ::testing::UnitTest::GetInstance()->current_test_info()->name(), name));
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
  }
  // An MLflow model folder as mlflow.xgboost.log_model writes it (MLflow 2.12), around a copy of `model`.
  std::string MlflowFolder(const std::string& model, const std::string& data_name, const std::string& inputs) {
    std::string d = TempDir("mlflow");
    fs::copy_file(Path(model), d + "/" + data_name);
    Spit(d + "/MLmodel", fmt::format(R"(artifact_path: model
flavors:
  python_function:
    data: {0}
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.xgboost
    python_version: 3.11.2
  xgboost:
    code: null
    data: {0}
    model_class: xgboost.core.Booster
    model_format: xgb
    xgb_version: 1.7.4
mlflow_version: 2.12.1
model_size_bytes: 45668
model_uuid: 3c1d1a6b2b8e4d2c9a0f6f3e2d1c0b9a
run_id: 0123456789abcdef0123456789abcdef
signature:
  inputs: '{1}'
  outputs: '[{{"type": "tensor", "tensor-spec": {{"dtype": "float32", "shape": [-1]}}}}]'
  params: null
utc_time_created: '2024-05-02 10:11:12.131415'
)",
                                     data_name, inputs));
    return d;
  }
  static std::string* dir_;
};
std::string* ModelImportTest::dir_ = nullptr;

// Every case and format: the imported package's model predicts what xgboost predicted, bit for bit.
TEST_F(ModelImportTest, EveryObjectiveAndFormatPredictsExactlyAsXGBoost) {
  for (const std::string kind : {"binary", "multi", "regression"}) {
    Shape shape = ShapeOf(kind);
    std::vector<float> rows = Floats(Path(kind + ".rows.f32"));
    std::vector<float> expected = Floats(Path(kind + ".pred.f32"));
    ASSERT_EQ(rows.size(), static_cast<size_t>(shape.rows) * shape.cols);
    ASSERT_EQ(expected.size(), static_cast<size_t>(shape.rows) * shape.outputs);
    for (const std::string file : {".json", ".ubj", ".xgb", "_noext"}) {
      SCOPED_TRACE(kind + file);
      Result<ImportedModel> m = ImportModel(Path(kind + file));
      ASSERT_TRUE(m.ok()) << m.status().ToString();
      EXPECT_EQ(m->source, ImportSource::kXGBoostFile);
      EXPECT_EQ(m->descriptor.flavor, "xgboost");
      EXPECT_EQ(m->descriptor.model_file, "model.json");
      EXPECT_EQ(m->descriptor.num_outputs, shape.outputs);
      EXPECT_EQ(m->descriptor.feature_names.size(), static_cast<size_t>(shape.num_feature));
      EXPECT_EQ(m->sha256, Sha256Hex(Slurp(Path(kind + file))));
      EXPECT_NE(m->descriptor.provenance.find("sha256 " + m->sha256), std::string::npos) << m->descriptor.provenance;
      const std::string* model_json = FileOf(*m, "model.json");
      ASSERT_NE(model_json, nullptr);
      Result<TreeEnsemble> trees = TreeEnsemble::ParseXGBoostJson(*model_json, "model.json");
      ASSERT_TRUE(trees.ok()) << trees.status().ToString();
      EXPECT_EQ(trees->objective(), m->descriptor.objective);
      ASSERT_EQ(trees->num_outputs(), shape.outputs);
      std::vector<float> got(expected.size());
      trees->PredictBatch(rows.data(), shape.rows, got.data());
      int differ = 0;
      for (size_t i = 0; i < got.size(); ++i) {
        uint32_t a, b;
        std::memcpy(&a, &got[i], 4);
        std::memcpy(&b, &expected[i], 4);
        if (a != b && ++differ <= 3) ADD_FAILURE() << "value " << i << ": gyre " << got[i] << ", xgboost " << expected[i];
      }
      EXPECT_EQ(differ, 0);
    }
  }
  EXPECT_EQ(ImportModel(Path("binary.json"))->descriptor.objective, "binary:logistic");
  EXPECT_EQ(ImportModel(Path("multi.ubj"))->descriptor.objective, "multi:softprob");
  EXPECT_EQ(ImportModel(Path("regression.xgb"))->descriptor.objective, "reg:squarederror");
}

TEST_F(ModelImportTest, FeatureNamesComeFromTheModelElseTheyAreGenerated) {
  Result<ImportedModel> named = ImportModel(Path("binary.ubj"));
  ASSERT_TRUE(named.ok()) << named.status().ToString();
  EXPECT_EQ(named->feature_names_origin, "the model");
  EXPECT_FALSE(named->generated_feature_names);
  ASSERT_EQ(named->descriptor.feature_names.size(), 8u);
  EXPECT_EQ(named->descriptor.feature_names[0], "amount_0");
  EXPECT_EQ(named->descriptor.feature_names[7], "amount_7");

  // xgboost's legacy binary format drops the names; the regression model never had any.
  for (const std::string file : {"binary.xgb", "regression.json"}) {
    Result<ImportedModel> unnamed = ImportModel(Path(file));
    ASSERT_TRUE(unnamed.ok()) << unnamed.status().ToString();
    EXPECT_TRUE(unnamed->generated_feature_names) << file;
    EXPECT_EQ(unnamed->feature_names_origin.substr(0, 9), "generated") << file;
    const auto& names = unnamed->descriptor.feature_names;
    for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(names[i], fmt::format("f{}", i)) << file;
  }
}

TEST_F(ModelImportTest, FeaturesOptionOverridesAndMustMatchTheModelsCount) {
  std::vector<std::string> names = {"a", "b", "c", "d", "e", "f", "g", "h"};
  Result<ImportedModel> m = ImportModel(Path("binary.json"), WithFeatures(names));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->descriptor.feature_names, names);
  EXPECT_EQ(m->feature_names_origin, "--features");
  // The saved model carries them too, so xgboost checks the same names when MLflow loads it.
  json model = json::parse(*FileOf(*m, "model.json"));
  EXPECT_EQ(model["learner"]["feature_names"].get<std::vector<std::string>>(), names);

  Result<ImportedModel> wrong = ImportModel(Path("binary.json"), WithFeatures({"a", "b", "c"}));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong.status().message().find("3"), std::string::npos) << wrong.status().ToString();
  EXPECT_NE(wrong.status().message().find("8"), std::string::npos) << wrong.status().ToString();
  EXPECT_NE(wrong.status().message().find("binary.json"), std::string::npos) << wrong.status().ToString();
}

TEST_F(ModelImportTest, MlflowFolderTakesNamesFromItsSignature) {
  std::string inputs = "[";
  for (int i = 0; i < 8; ++i) inputs += fmt::format(R"({}{{"type": "double", "name": "sig_{}", "required": true}})", i ? ", " : "", i);
  inputs += "]";
  std::string folder = MlflowFolder("binary.xgb", "model.xgb", inputs);
  Result<ImportedModel> m = ImportModel(folder);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->source, ImportSource::kMlflowFolder);
  EXPECT_EQ(m->feature_names_origin, "the MLflow signature");
  ASSERT_EQ(m->descriptor.feature_names.size(), 8u);
  EXPECT_EQ(m->descriptor.feature_names[3], "sig_3");
  EXPECT_EQ(m->sha256, Sha256Hex(Slurp(folder + "/model.xgb")));

  // Serving's loader reads the same folder in memory, names and all.
  Result<LoadedModel> loaded = LoadModelFolder(folder);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->descriptor.feature_names, m->descriptor.feature_names);
  EXPECT_EQ(std::get<TreeEnsemble>(loaded->model).num_features(), 8);

  // A signature naming another count is an error that says both.
  std::string short_folder = MlflowFolder("regression.ubj", "model.ubj", R"([{"type": "double", "name": "x"}])");
  Result<ImportedModel> bad = ImportModel(short_folder);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("1 inputs"), std::string::npos) << bad.status().ToString();
  EXPECT_NE(bad.status().message().find("reads 9"), std::string::npos) << bad.status().ToString();
}

TEST_F(ModelImportTest, ErrorsNameThePath) {
  Result<ImportedModel> missing = ImportModel(Path("nope.json"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("nope.json"), std::string::npos);

  std::string garbage = Path("garbage.bin");
  Spit(garbage, "this is not a model at all");
  Result<ImportedModel> unreadable = ImportModel(garbage);
  ASSERT_FALSE(unreadable.ok());
  EXPECT_EQ(unreadable.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unreadable.status().message().find("garbage.bin"), std::string::npos) << unreadable.status().ToString();
  EXPECT_NE(unreadable.status().message().find("libxgboost cannot read"), std::string::npos);

  std::string sklearn = TempDir("sklearn");
  Spit(sklearn + "/MLmodel", "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n  sklearn:\n    pickled_model: model.pkl\n");
  Result<ImportedModel> no_flavor = ImportModel(sklearn);
  ASSERT_FALSE(no_flavor.ok());
  EXPECT_NE(no_flavor.status().message().find(sklearn + "/MLmodel"), std::string::npos) << no_flavor.status().ToString();
  EXPECT_NE(no_flavor.status().message().find("no xgboost flavor"), std::string::npos);
  EXPECT_NE(no_flavor.status().message().find("sklearn"), std::string::npos);

  std::string empty = TempDir("empty");
  EXPECT_FALSE(ImportModel(empty).ok());
  EXPECT_EQ(LoadModelFolder(empty).status().code(), StatusCode::kNotFound);
}

TEST_F(ModelImportTest, ReferenceCsvGivesFeatureAndScoreDistributions) {
  Shape shape = ShapeOf("binary");
  std::vector<float> rows = Floats(Path("binary.rows.f32"));
  std::vector<float> expected = Floats(Path("binary.pred.f32"));
  std::string csv = "id";
  for (int c = 0; c < shape.cols; ++c) csv += fmt::format(",amount_{}", c);
  csv += "\n";
  for (int r = 0; r < shape.rows; ++r) {
    csv += std::to_string(r);
    for (int c = 0; c < shape.cols; ++c) {
      float v = rows[r * shape.cols + c];
      csv += std::isnan(v) ? std::string(",") : fmt::format(",{}", v);
    }
    csv += "\n";
  }
  Spit(Path("reference.csv"), csv);
  Result<ImportedModel> m = ImportModel(Path("binary.json"), WithReference(Path("reference.csv")));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const PackageDescriptor& d = m->descriptor;
  ASSERT_EQ(d.reference_features.size(), 8u);
  int64_t nan0 = 0;
  for (int r = 0; r < shape.rows; ++r) nan0 += std::isnan(rows[r * shape.cols]);
  EXPECT_EQ(d.reference_features[0].name, "amount_0");
  EXPECT_EQ(d.reference_features[0].count, shape.rows);
  EXPECT_EQ(d.reference_features[0].missing, nan0);
  ASSERT_TRUE(d.reference_score.has_value());
  Distribution want = Summarize("score", {expected.begin(), expected.end()});
  EXPECT_EQ(d.reference_score->quantiles, want.quantiles);
  EXPECT_EQ(d.reference_score->counts, want.counts);

  Spit(Path("short.csv"), "amount_0,amount_1\n1,2\n");
  Result<ImportedModel> bad = ImportModel(Path("binary.json"), WithReference(Path("short.csv")));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("short.csv"), std::string::npos) << bad.status().ToString();
}

// The MLmodel written beside the package names both flavors MLflow's loaders need, in MLflow's layout.
TEST_F(ModelImportTest, PackageCarriesAnMlmodelMlflowCanLoad) {
  Result<ImportedModel> m = ImportModel(Path("binary.json"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  for (const char* f : {"gyre-model.json", "model.json", "MLmodel", "conda.yaml", "python_env.yaml", "requirements.txt"}) {
    EXPECT_NE(FileOf(*m, f), nullptr) << f;
  }
  YAML::Node mlmodel = YAML::Load(*FileOf(*m, "MLmodel"));
  YAML::Node pyfunc = mlmodel["flavors"]["python_function"];
  ASSERT_TRUE(pyfunc.IsMap());
  EXPECT_EQ(pyfunc["loader_module"].as<std::string>(), "mlflow.xgboost");
  EXPECT_EQ(pyfunc["data"].as<std::string>(), "model.json");
  EXPECT_EQ(pyfunc["env"]["conda"].as<std::string>(), "conda.yaml");
  EXPECT_EQ(pyfunc["env"]["virtualenv"].as<std::string>(), "python_env.yaml");
  EXPECT_FALSE(pyfunc["python_version"].as<std::string>().empty());
  YAML::Node xgb = mlmodel["flavors"]["xgboost"];
  EXPECT_EQ(xgb["data"].as<std::string>(), "model.json");
  EXPECT_EQ(xgb["model_class"].as<std::string>(), "xgboost.core.Booster");
  EXPECT_EQ(xgb["model_format"].as<std::string>(), "json");
  EXPECT_EQ(xgb["xgb_version"].as<std::string>(), XGBoostVersionString());
  EXPECT_TRUE(xgb["code"].IsNull());
  EXPECT_EQ(mlmodel["model_uuid"].as<std::string>().size(), 32u);
  EXPECT_FALSE(mlmodel["mlflow_version"].as<std::string>().empty());
  EXPECT_EQ(mlmodel["utc_time_created"].as<std::string>().size(), 26u);
  json inputs = json::parse(mlmodel["signature"]["inputs"].as<std::string>());
  ASSERT_EQ(inputs.size(), 8u);
  EXPECT_EQ(inputs[2], json({{"type", "double"}, {"name", "amount_2"}, {"required", true}}));
  json outputs = json::parse(mlmodel["signature"]["outputs"].as<std::string>());
  EXPECT_EQ(outputs[0]["tensor-spec"]["shape"], json({-1}));
  EXPECT_NE(FileOf(*m, "requirements.txt")->find("xgboost=="), std::string::npos);

  Result<ImportedModel> multi = ImportModel(Path("multi.json"));
  ASSERT_TRUE(multi.ok());
  YAML::Node multi_mlmodel = YAML::Load(*FileOf(*multi, "MLmodel"));
  EXPECT_EQ(json::parse(multi_mlmodel["signature"]["outputs"].as<std::string>())[0]["tensor-spec"]["shape"],
            json({-1, 3}));

  // Logistic regression has no MLflow loader: no pyfunc, no xgboost flavor.
  PackageDescriptor lr = m->descriptor;
  lr.flavor = "logistic_regression";
  lr.model_file = "logistic_regression.json";
  YAML::Node lr_mlmodel = YAML::Load(MlflowModelFile(lr, "1.7.4"));
  EXPECT_FALSE(lr_mlmodel["flavors"]["python_function"]);
  EXPECT_FALSE(lr_mlmodel["flavors"]["xgboost"]);
  EXPECT_TRUE(lr_mlmodel["flavors"]["gyre"]);
}

TEST_F(ModelImportTest, GyrePackageIsCopiedAsIsAndDescriptorsRoundTrip) {
  Result<ImportedModel> m = ImportModel(Path("multi.ubj"));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  std::string package = TempDir("package");
  ASSERT_TRUE(WriteImportedModel(*m, package).ok());
  Result<PackageDescriptor> d = LoadDescriptor(package);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->num_outputs, 3);
  EXPECT_EQ(d->provenance, m->descriptor.provenance);
  EXPECT_EQ(d->objective, "multi:softprob");

  Result<ImportedModel> again = ImportModel(package);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->source, ImportSource::kGyrePackage);
  std::vector<std::pair<std::string, std::string>> files = m->files;
  std::sort(files.begin(), files.end());
  EXPECT_EQ(again->files, files);
  EXPECT_FALSE(ImportModel(package, WithFeatures({"a"})).ok());

  // A descriptor written before num_outputs and provenance existed still parses, as one output.
  json old = json::parse(SerializeDescriptor(m->descriptor));
  old.erase("num_outputs");
  old.erase("provenance");
  Result<PackageDescriptor> parsed = ParseDescriptor(old.dump(), "old.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->num_outputs, 1);
  EXPECT_TRUE(parsed->provenance.empty());
}

TEST(Sha256, KnownDigests) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace gyre::models
