#include <doctest/doctest.h>

#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "data/expect.hpp"
#include "data/unique.hpp"
#include "data/validate.hpp"

using namespace mloop;
using namespace mloop::data;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        char tmpl[] = "/tmp/mloop-unit-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path); }
};

void write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

void write_gz(const fs::path& p, const std::string& text) {
    gzFile f = gzopen(p.c_str(), "wb");
    REQUIRE(f != nullptr);
    REQUIRE(gzwrite(f, text.data(), static_cast<unsigned>(text.size())) ==
            static_cast<int>(text.size()));
    gzclose(f);
}

config::Column column(std::string name, config::ColumnType type) {
    config::Column c;
    c.name = std::move(name);
    c.type = type;
    return c;
}

config::Schema churn_schema() {
    config::Schema s;
    auto id = column("id", config::ColumnType::string);
    id.unique = true;
    id.nullable = false;
    auto age = column("age", config::ColumnType::integer);
    age.min = 18;
    age.max = 90;
    auto fee = column("fee", config::ColumnType::floating);
    fee.min = 0;
    fee.max_null_fraction = 0.25;
    auto plan = column("plan", config::ColumnType::category);
    plan.values = {"basic", "pro"};
    auto email = column("email", config::ColumnType::string);
    email.pattern = config::Text{"^[^@]+@[^@]+$", {}};
    email.mostly = 0.75;
    auto when = column("when", config::ColumnType::datetime);
    auto flag = column("flag", config::ColumnType::boolean);
    s.columns = {id, age, fee, plan, email, when, flag};
    s.rows_min = 2;
    s.rows_max = 100;
    return s;
}

const std::string k_csv =
    "id,age,fee,plan,email,when,flag\n"
    "a,20,1.5,basic,a@x,2024-01-01,true\n"     // row 2: fine
    "b,17,,pro,b@x,2024-01-02T10:00:00Z,0\n"   // 3: age < 18, fee null
    "c,abc,-1,gold,nope,yesterday,maybe\n"     // 4: type int, fee < 0, values, pattern, ...
    "a,91,2,basic,d@x,2024-02-30,1\n"          // 5: dup id, age > 90, bad date
    ",30,3,pro,e@x,2024-01-05 12:00,FALSE\n";  // 6: id null

const Expectation& find(const Report& r, const std::string& kind, const std::string& column) {
    for (const auto& e : r.expectations) {
        if (e.kind == kind && e.column == column) {
            return e;
        }
    }
    FAIL("no expectation ", kind, " on ", column);
    throw std::logic_error("unreachable");
}

std::string rows_of(const Expectation& e) {
    std::string s;
    for (const auto& x : e.samples) {
        s += (s.empty() ? "" : " ") + (x.file.empty() ? "" : x.file + ":") + std::to_string(x.row) +
             "=" + x.value;
    }
    return s;
}

Report check(const config::Schema& s, const fs::path& p, unsigned threads = 1,
             uint64_t min_part = 1) {
    ReadOptions o;
    o.threads = threads;
    o.split_min = 0;
    o.min_part = min_part;
    o.block_size = 4096;
    return read_and_check(s, Target{p.filename().string(), p, p.string(), {}}, o);
}

// The report as JSON without what differs between runs of the same data.
nlohmann::ordered_json stable(const Report& r) {
    auto j = to_json(r);
    for (const char* k : {"seconds", "threads", "validated_at", "bytes"}) {
        j.erase(k);
    }
    for (auto& u : j["unique"]) {
        u.erase("bytes");  // how the table grew may differ; what it holds may not
    }
    return j;
}

}  // namespace

TEST_SUITE("data") {
    TEST_CASE("validate: each expectation counts its failures, with the first samples by row") {
        TempDir t;
        write(t.path / "d.csv", k_csv);
        const Report r = check(churn_schema(), t.path / "d.csv");
        REQUIRE_FALSE(r.problem);
        CHECK(r.rows == 5);
        CHECK_FALSE(r.passed);
        CHECK(rows_of(find(r, "unique", "id")) == "5='a'");
        CHECK(find(r, "unique", "id").checked == 4);
        CHECK(rows_of(find(r, "not_null", "id")) == "6=null");
        CHECK(rows_of(find(r, "type", "age")) == "4='abc'");
        CHECK(rows_of(find(r, "min", "age")) == "3='17'");
        CHECK(rows_of(find(r, "max", "age")) == "5='91'");
        CHECK(find(r, "min", "age").checked == 4);  // the typed values
        CHECK(rows_of(find(r, "min", "fee")) == "4='-1'");
        const auto& nulls = find(r, "null_fraction", "fee");
        CHECK(nulls.failed == 1);
        CHECK(nulls.checked == 5);
        CHECK(nulls.verdict == Verdict::pass);  // 20% <= 25%
        CHECK(rows_of(find(r, "values", "plan")) == "4='gold'");
        const auto& pattern = find(r, "pattern", "email");
        CHECK(rows_of(pattern) == "4='nope'");
        CHECK(pattern.verdict == Verdict::pass);  // 1 of 5 is 20%, within 1 - mostly = 25%
        CHECK(rows_of(find(r, "type", "when")) == "4='yesterday' 5='2024-02-30'");
        CHECK(rows_of(find(r, "type", "flag")) == "4='maybe'");
        CHECK(find(r, "rows_min", "").verdict == Verdict::pass);
        CHECK(find(r, "extra_columns", "").verdict == Verdict::pass);
    }

    TEST_CASE("validate: mostly tolerates a share of failures") {
        TempDir t;
        std::string csv = "email\n";
        for (int i = 0; i < 100; ++i) {
            csv += i < 3 ? "bad\n" : "x@y\n";
        }
        write(t.path / "e.csv", csv);
        config::Schema s;
        auto email = column("email", config::ColumnType::string);
        email.pattern = config::Text{"@", {}};
        email.mostly = 0.97;
        s.columns = {email};
        CHECK(find(check(s, t.path / "e.csv"), "pattern", "email").verdict == Verdict::pass);
        s.columns[0].mostly = 0.98;
        const Report r = check(s, t.path / "e.csv");
        CHECK(find(r, "pattern", "email").verdict == Verdict::fail);
        CHECK(find(r, "pattern", "email").failed == 3);
    }

    TEST_CASE("validate: missing and extra columns") {
        TempDir t;
        write(t.path / "m.csv", "id,age,extra\n1,20,x\n2,30,y\n");
        config::Schema s = churn_schema();
        Report r = check(s, t.path / "m.csv");
        CHECK(find(r, "present", "fee").verdict == Verdict::fail);
        CHECK(find(r, "extra_columns", "").verdict == Verdict::fail);
        CHECK(rows_of(find(r, "extra_columns", "")) == "1='extra'");
        s.extra_columns = config::ExtraColumns::warn;
        r = check(s, t.path / "m.csv");
        CHECK(find(r, "extra_columns", "").verdict == Verdict::warn);
    }

    TEST_CASE("validate: an extra name is counted once, however many rows repeat it") {
        // 25 extra members on every line: more than the report lists, and on every row.
        TempDir t;
        std::string text;
        for (int row = 0; row < 400; ++row) {
            text += "{\"id\":\"r" + std::to_string(row) + "\"";
            for (int k = 0; k < 25; ++k) {
                text += ",\"x" + std::to_string(k) + "\":1";
            }
            text += "}\n";
        }
        write(t.path / "x.jsonl", text);
        config::Schema s;
        s.columns = {column("id", config::ColumnType::string)};
        for (unsigned threads : {1u, 2u}) {
            INFO("threads ", threads);
            const Report r = check(s, t.path / "x.jsonl", threads);
            const Expectation& e = find(r, "extra_columns", "");
            CHECK(e.failed == 25);
            CHECK(e.checked == 26);
            CHECK(e.samples.size() == 5);
            CHECK(rows_of(e) == "1='x0' 1='x1' 1='x2' 1='x3' 1='x4'");
            CHECK(r.rows == 400);
        }
    }

    TEST_CASE("validate: JSON lines give the same tallies as the same data in CSV") {
        TempDir t;
        write(t.path / "d.jsonl",
              "{\"id\":\"a\",\"age\":20,\"fee\":1.5,\"plan\":\"basic\",\"email\":\"a@x\","
              "\"when\":\"2024-01-01\",\"flag\":true}\n"
              "{\"id\":\"b\",\"age\":17,\"fee\":null,\"plan\":\"pro\",\"email\":\"b@x\","
              "\"when\":\"2024-01-02T10:00:00Z\",\"flag\":0}\n"
              "{\"id\":\"c\",\"age\":\"abc\",\"fee\":-1,\"plan\":\"gold\",\"email\":\"nope\","
              "\"when\":\"yesterday\",\"flag\":\"maybe\"}\n"
              "{\"id\":\"a\",\"age\":91,\"fee\":2,\"plan\":\"basic\",\"email\":\"d@x\","
              "\"when\":\"2024-02-30\",\"flag\":1}\n"
              "{\"age\":30,\"fee\":3,\"plan\":\"pro\",\"email\":\"e@x\","
              "\"when\":\"2024-01-05 12:00\",\"flag\":false}\n");
        write(t.path / "d.csv", k_csv);
        const Report j = check(churn_schema(), t.path / "d.jsonl");
        const Report c = check(churn_schema(), t.path / "d.csv");
        REQUIRE_FALSE(j.problem);
        REQUIRE(j.expectations.size() == c.expectations.size());
        for (size_t i = 0; i < j.expectations.size(); ++i) {
            INFO(j.expectations[i].kind, " ", j.expectations[i].column);
            CHECK(j.expectations[i].failed == c.expectations[i].failed);
            CHECK(j.expectations[i].checked == c.expectations[i].checked);
        }
        // JSON rows are lines, CSV rows count the header.
        CHECK(rows_of(find(j, "type", "age")) == "3='abc'");
    }

    TEST_CASE("validate: JSON types are strict and a repeated member is an error") {
        TempDir t;
        write(t.path / "s.jsonl", "{\"age\":\"20\",\"flag\":\"true\"}\n{\"age\":1,\"age\":2}\n");
        config::Schema s;
        s.columns = {column("age", config::ColumnType::integer),
                     column("flag", config::ColumnType::boolean)};
        const Report r = check(s, t.path / "s.jsonl");
        REQUIRE(r.problem);
        CHECK(r.problem->row == 2);
        CHECK(r.problem->column == 16);
        CHECK(r.problem->message == "member 'age' appears twice in the object");
    }

    TEST_CASE("validate: two or more threads give exactly what one gives") {
        // Quoted fields with embedded newlines, quotes and separators everywhere, so that split
        // points land inside quoted fields; duplicates and failures spread over the file.
        TempDir t;
        std::mt19937 rng(3);
        std::string csv = "id,age,fee,plan,email,when,flag\n";
        std::string jsonl;
        // Enough rows for each part of two to estimate its rows from its first 4096 and make
        // room for them in the `unique` set.
        for (int i = 0; i < 12000; ++i) {
            const std::string id = "c" + std::to_string(rng() % 10500);
            const int age = static_cast<int>(rng() % 100);
            std::string email = "u" + std::to_string(i) + "@x";
            if (rng() % 7 == 0) {
                email = "\"line one\nline, \"\"two\"\"\n" + std::string(rng() % 400, 'z') + "\"";
            }
            csv += id + "," + std::to_string(age) + "," + (rng() % 5 ? "1.5" : "") + "," +
                   (rng() % 9 ? "pro" : "gold") + "," + email + ",2024-01-01," +
                   (rng() % 11 ? "true" : "yes") + "\n";
            jsonl += "{\"id\":\"" + id + "\",\"age\":" + std::to_string(age) +
                     ",\"plan\":\"x\\n\\\"y\"}\n";
        }
        write(t.path / "big.csv", csv);
        write(t.path / "big.jsonl", jsonl);
        const config::Schema s = churn_schema();
        for (const char* name : {"big.csv", "big.jsonl"}) {
            const auto one = stable(check(s, t.path / name, 1));
            for (unsigned threads : {2u, 3u, 4u, 7u}) {
                INFO(name, " with ", threads, " threads");
                const Report r = check(s, t.path / name, threads);
                CHECK(r.threads == threads);
                CHECK(stable(r) == one);
            }
        }
    }

    TEST_CASE("validate: the unique set keeps what it holds when it makes room") {
        UniqueSet u;
        for (int i = 0; i < 1000; ++i) {
            CHECK(u.insert("v" + std::to_string(i), static_cast<uint64_t>(i)));
        }
        const size_t before = u.memory();
        u.reserve(100000);
        CHECK(u.memory() > before);
        CHECK(u.size() == 1000);
        u.reserve(10);  // never shrinks
        bool all = true;
        for (int i = 0; i < 1000; ++i) {
            all = all && u.contains("v" + std::to_string(i));
        }
        CHECK(all);
        CHECK_FALSE(u.insert("v7", 5000));
        CHECK(u.insert("v1000", 5001));
        std::map<std::string, uint64_t> seen;
        u.for_each([&](std::string_view v, uint64_t pos) { seen[std::string(v)] = pos; });
        CHECK(seen.size() == 1001);
        CHECK(seen["v7"] == 7);
        CHECK(seen["v1000"] == 5001);
    }

    TEST_CASE("validate: the unique set makes room for the distinct values the rows promise") {
        // From its first 4096 rows a checker reserves for the distinct values at their rate:
        // 20 000 rows of 7 values keep a small table, 20 000 distinct ones a large one.
        TempDir t;
        std::string few = "id\n";
        std::string many = "id\n";
        for (int i = 0; i < 20000; ++i) {
            few += "v" + std::to_string(i % 7) + "\n";
            many += "v" + std::to_string(i) + "\n";
        }
        write(t.path / "few.csv", few);
        write(t.path / "many.csv", many);
        config::Schema s;
        auto id = column("id", config::ColumnType::string);
        id.unique = true;
        s.columns = {id};
        auto bytes = [&](const char* name) {
            const auto j = to_json(check(s, t.path / name));
            return j["unique"][0]["bytes"].get<uint64_t>();
        };
        const uint64_t small = bytes("few.csv");
        const uint64_t large = bytes("many.csv");
        CHECK(small < 256 * 1024);
        CHECK(large >= 20000 * 16);  // a slot of 16 bytes for each value, at least
        CHECK(find(check(s, t.path / "few.csv"), "unique", "id").failed == 20000 - 7);
        CHECK(find(check(s, t.path / "many.csv"), "unique", "id").failed == 0);
    }

    TEST_CASE("validate: an error in a later part is located in the whole file") {
        TempDir t;
        std::string csv = "id,age\n";
        for (int i = 0; i < 3000; ++i) {
            csv += std::to_string(i) + (i == 2500 ? ",1,2\n" : ",20\n");
        }
        write(t.path / "bad.csv", csv);
        config::Schema s;
        s.columns = {column("id", config::ColumnType::integer),
                     column("age", config::ColumnType::integer)};
        for (unsigned threads : {1u, 2u, 3u}) {
            INFO(threads, " threads");
            const Report r = check(s, t.path / "bad.csv", threads);
            REQUIRE(r.problem);
            CHECK(r.problem->row == 2502);
            CHECK(r.problem->column == 3);
            CHECK(r.problem->message == "row has 3 fields where the header has 2");
        }
    }

    TEST_CASE("validate: a directory is one dataset of its data files, in name order") {
        TempDir t;
        write(t.path / "dir" / "b.csv", "id,age\nx,20\ny,200\n");
        write(t.path / "dir" / "a" / "one.jsonl", "{\"id\":\"x\",\"age\":1}\n");
        write(t.path / "dir" / "notes.txt", "ignored");
        write(t.path / "dir" / ".hidden" / "c.csv", "ignored\n");
        config::Schema s;
        auto id = column("id", config::ColumnType::string);
        id.unique = true;
        auto age = column("age", config::ColumnType::integer);
        age.max = 100;
        s.columns = {id, age};
        const Report r = check(s, t.path / "dir");
        CHECK(r.files == std::vector<std::string>{"a/one.jsonl", "b.csv"});
        CHECK(r.format == "mixed");
        CHECK(r.rows == 3);
        CHECK(rows_of(find(r, "unique", "id")) == "b.csv:2='x'");
        CHECK(rows_of(find(r, "max", "age")) == "b.csv:3='200'");
    }

    TEST_CASE("validate: gzip files read the same; a truncated stream is an error") {
        TempDir t;
        write_gz(t.path / "d.csv.gz", k_csv);
        write(t.path / "d.csv", k_csv);
        const Report gz = check(churn_schema(), t.path / "d.csv.gz", 2);
        CHECK(gz.format == "csv+gzip");
        CHECK(gz.threads == 1);
        auto a = stable(gz);
        auto b = stable(check(churn_schema(), t.path / "d.csv"));
        for (const char* k : {"format", "dataset", "path"}) {
            a.erase(k);
            b.erase(k);
        }
        CHECK(a == b);

        std::string big;
        for (int i = 0; i < 20000; ++i) {
            big += "x" + std::to_string(i) + ",20,1,basic,a@b,2024-01-01,true\n";
        }
        write_gz(t.path / "t.csv.gz", "id,age,fee,plan,email,when,flag\n" + big);
        const auto size = fs::file_size(t.path / "t.csv.gz");
        fs::resize_file(t.path / "t.csv.gz", size / 2);
        const Report r = check(churn_schema(), t.path / "t.csv.gz");
        REQUIRE(r.problem);
        CHECK(r.problem->message.find("the compressed stream is truncated after") == 0);
        CHECK(r.problem->row > 1000);
    }

    TEST_CASE("validate: the schema digest changes with any expectation") {
        config::Schema s = churn_schema();
        const std::string a = schema_digest(s, "csv");
        CHECK(a.rfind("sha256:", 0) == 0);
        CHECK(schema_digest(s, "csv") == a);
        CHECK(schema_digest(s, "jsonl") != a);
        s.columns[1].max = 91;
        CHECK(schema_digest(s, "csv") != a);
    }
}
