#include "model.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

namespace mloop::serve {

namespace {

constexpr const char* k_format = "mloop-logreg/1";
constexpr long k_max_model_bytes = 64L << 20;

double finite(const Json& value, const std::string& what) {
    if (!value.is_number() || !std::isfinite(value.get<double>())) {
        throw ModelError(what + " must be a finite number, got " + shown(value));
    }
    return value.get<double>();
}

double finite_number(const Json& obj, const char* key, const std::string& where) {
    auto it = obj.find(key);
    if (it == obj.end())
        throw ModelError(where + ": missing '" + key + "'");
    return finite(*it, where + ": '" + key + "'");
}

std::string read_file(const std::string& path) {
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rbe"), &std::fclose);
    if (!f)
        throw ModelError(std::strerror(errno));
    std::string text;
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) {
        text.append(buf, n);
        if (static_cast<long>(text.size()) > k_max_model_bytes) {
            throw ModelError("larger than 64 MiB: not a model file");
        }
    }
    if (std::ferror(f.get()))
        throw ModelError(std::strerror(errno));
    return text;
}

}  // namespace

std::string shown(const Json& value) {
    std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
    if (text.size() > 60)
        text = text.substr(0, 57) + "...";
    return text;
}

std::string json_message(const Json::exception& e) {
    std::string what = e.what();
    size_t at = what.find("] ");
    return at == std::string::npos ? what : what.substr(at + 2);
}

Model parse_model(const Json& doc) {
    if (!doc.is_object())
        throw ModelError("expected a JSON object");
    auto format = doc.find("format");
    if (format == doc.end() || *format != k_format) {
        throw ModelError(std::string("not a ") + k_format + " model (format is " +
                         (format == doc.end() ? "missing" : shown(*format)) + ")");
    }
    Model model;
    model.bias = finite_number(doc, "bias", "the model");
    if (auto t = doc.find("threshold"); t != doc.end()) {
        model.threshold = finite_number(doc, "threshold", "the model");
    }
    if (auto t = doc.find("target"); t != doc.end() && t->is_string()) {
        model.target = t->get<std::string>();
    }
    auto features = doc.find("features");
    if (features == doc.end() || !features->is_array() || features->empty()) {
        throw ModelError("'features' must be a non-empty array");
    }
    for (size_t i = 0; i < features->size(); ++i) {
        const Json& f = (*features)[i];
        std::string where = "features[" + std::to_string(i) + "]";
        if (!f.is_object())
            throw ModelError(where + ": expected an object");
        auto name = f.find("name");
        if (name == f.end() || !name->is_string() || name->get<std::string>().empty()) {
            throw ModelError(where + ": 'name' must be a non-empty string");
        }
        Feature feat;
        feat.name = name->get<std::string>();
        where += " ('" + feat.name + "')";
        for (const Feature& seen : model.features) {
            if (seen.name == feat.name)
                throw ModelError(where + ": a second feature of that name");
        }
        auto kind = f.find("kind");
        std::string k = kind != f.end() && kind->is_string() ? kind->get<std::string>() : "";
        if (k == "numeric") {
            feat.kind = Feature::Kind::numeric;
            feat.mean = finite_number(f, "mean", where);
            feat.std = finite_number(f, "std", where);
            if (feat.std == 0.0)
                throw ModelError(where + ": 'std' is 0");
            feat.weight = finite_number(f, "weight", where);
            if (f.contains("fill"))
                feat.fill = finite_number(f, "fill", where);
        } else if (k == "category") {
            feat.kind = Feature::Kind::category;
            auto weights = f.find("weights");
            if (weights == f.end() || !weights->is_object()) {
                throw ModelError(where + ": 'weights' must be an object");
            }
            for (const auto& [cat, w] : weights->items()) {
                feat.weights[cat] = finite(w, where + ": weights['" + cat + "']");
            }
        } else if (k == "bool") {
            feat.kind = Feature::Kind::boolean;
            feat.weight = finite_number(f, "weight", where);
        } else {
            throw ModelError(where + ": 'kind' must be numeric, category or bool, got " +
                             (kind == f.end() ? "nothing" : shown(*kind)));
        }
        model.features.push_back(std::move(feat));
    }
    return model;
}

Model load_model(const std::string& path) {
    try {
        std::string text = read_file(path);
        Json doc;
        try {
            doc = Json::parse(text);
        } catch (const Json::exception& e) {  // a syntax error or a number out of range
            throw ModelError("invalid JSON: " + json_message(e));
        }
        return parse_model(doc);
    } catch (const ModelError& e) {
        throw ModelError("cannot load model '" + path + "': " + e.what());
    }
}

double score(const Model& model, const Json& row) {
    if (!row.is_object())
        throw RowError("", "expected a JSON object of features, got " + shown(row));
    // Left to right as churnlib.score: z = bias; z += w * (x - mean) / std; ...
    double z = model.bias;
    for (const Feature& feat : model.features) {
        auto it = row.find(feat.name);
        bool absent = it == row.end() || it->is_null();
        std::string prefix = "feature '" + feat.name + "' ";
        switch (feat.kind) {
            case Feature::Kind::numeric: {
                double value;
                if (absent) {
                    if (!feat.fill) {
                        throw RowError(feat.name, it == row.end()
                                                      ? prefix + "is missing"
                                                      : prefix + "must be a number, got null");
                    }
                    value = *feat.fill;
                } else if (it->is_number()) {
                    value = it->get<double>();
                } else {
                    throw RowError(feat.name, prefix + "must be a number, got " + shown(*it));
                }
                z += feat.weight * (value - feat.mean) / feat.std;
                break;
            }
            case Feature::Kind::category: {
                if (it == row.end())
                    throw RowError(feat.name, prefix + "is missing");
                if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
                    throw RowError(feat.name,
                                   prefix + "must be a non-empty string, got " + shown(*it));
                }
                auto w = feat.weights.find(it->get_ref<const std::string&>());
                z += w == feat.weights.end() ? 0.0 : w->second;
                break;
            }
            case Feature::Kind::boolean: {
                if (it == row.end())
                    throw RowError(feat.name, prefix + "is missing");
                double value;
                if (it->is_boolean()) {
                    value = it->get<bool>() ? 1.0 : 0.0;
                } else if (it->is_number_integer() && (*it == 0 || *it == 1)) {
                    value = *it == 1 ? 1.0 : 0.0;
                } else {
                    throw RowError(feat.name, prefix + "must be true or false, got " + shown(*it));
                }
                z += feat.weight * value;
                break;
            }
        }
    }
    // Values far out of range can overflow to opposite infinities; JSON has no NaN to answer.
    if (std::isnan(z))
        throw RowError("", "the feature values are out of range: no finite score");
    if (z >= 0)
        return 1.0 / (1.0 + std::exp(-z));
    double e = std::exp(z);
    return e / (1.0 + e);
}

}  // namespace mloop::serve
