// The churn example's model format, "mloop-logreg/1" (examples/churn/churnlib.py): logistic
// regression over standardised numeric features (nulls imputed with `fill`), one-hot categories
// (an unseen one contributes 0) and booleans. score() computes exactly what churnlib.score
// computes, in the same order, so both give the same double.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mloop::serve {

// Not ordered_json: its objects look keys up linearly, so a body of many keys would cost
// quadratic time to parse.
using Json = nlohmann::json;

struct Feature {
    enum class Kind { numeric, category, boolean };
    std::string name;
    Kind kind = Kind::numeric;
    double mean = 0.0;
    double std = 1.0;
    double weight = 0.0;
    std::optional<double> fill;                          // numeric: a null is imputed with this
    std::map<std::string, double, std::less<>> weights;  // category
};

struct Model {
    std::string target;
    double threshold = 0.5;
    double bias = 0.0;
    std::vector<Feature> features;
};

struct ModelError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A feature value that cannot be scored; `field` names it ("age").
struct RowError : std::runtime_error {
    RowError(std::string field_name, const std::string& message)
        : std::runtime_error(message), field(std::move(field_name)) {}
    std::string field;
};

// A value for a message: its JSON text, shortened to 60 bytes.
std::string shown(const Json& value);

// nlohmann's message without its "[json.exception.parse_error.101] " prefix.
std::string json_message(const Json::exception& e);

// Reads and checks a model file; throws ModelError with a message that names what is wrong.
Model load_model(const std::string& path);
Model parse_model(const Json& doc);

// The churn probability of one row (a JSON object of feature values): a number for a numeric
// feature (null or absent when it has a fill value), a non-empty string for a category,
// true/false (or 0/1) for a boolean. Keys that are not features are ignored. Throws RowError.
double score(const Model& model, const Json& row);

}  // namespace mloop::serve
