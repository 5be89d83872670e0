#include <doctest/doctest.h>
#include <zlib.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "data/source.hpp"
#include "error/error.hpp"
#include "monitor/frame.hpp"
#include "util/parallel.hpp"

namespace fs = std::filesystem;
using namespace mloop::monitor;

namespace {

struct Dir {
    fs::path path;
    Dir() {
        path = fs::temp_directory_path() / ("mloop-frame-" + std::to_string(::getpid()));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~Dir() { fs::remove_all(path); }
    fs::path write(const std::string& name, const std::string& text) const {
        std::ofstream(path / name, std::ios::binary) << text;
        return path / name;
    }
};

std::vector<std::string> texts(const Column& c) {
    std::vector<std::string> out;
    for (size_t i = 0; i < c.text.size(); ++i) {
        out.emplace_back(c.text[i]);
    }
    return out;
}

}  // namespace

TEST_SUITE("monitor") {
    TEST_CASE("Texts codes cells by a dictionary: push, replace the last, pad, cut, filter") {
        Texts t;
        t.push_back("alpha");
        t.push_back({});
        t.set_last("beta");
        t.push_back("");
        CHECK(t.size() == 3);
        CHECK(t[0] == "alpha");
        CHECK(t[1] == "beta");
        CHECK(t[2].empty());
        t.set_last("gamma");
        t.set_last("g");  // a shorter value over a longer one
        CHECK(t[2] == "g");
        t.resize(5);
        CHECK(t.size() == 5);
        CHECK(t[3].empty());
        CHECK(t[4].empty());
        t.set_last("e");
        CHECK(t[4] == "e");
        t.filter({1, 0, 1, 0, 1});
        CHECK(t.size() == 3);
        CHECK(t[0] == "alpha");
        CHECK(t[1] == "g");
        CHECK(t[2] == "e");
        t.resize(1);
        CHECK(t.size() == 1);
        CHECK(t[0] == "alpha");
        t.push_back("z");
        CHECK(t[1] == "z");
        t.resize(0);
        CHECK(t.size() == 0);
        t.push_back({});
        t.set_last("only");
        CHECK(t[0] == "only");
        // Each distinct value once, in order of first appearance, whatever was cut since.
        CHECK(t.distinct() == 8);
        CHECK(t.value(0) == "alpha");
        CHECK(t.value(1).empty());
        CHECK(t.value(2) == "beta");
        CHECK(t.code(0) == 7);
        CHECK(t.value(7) == "only");
    }

    TEST_CASE("Texts: many distinct values, each pushed twice, keep one code each") {
        Texts t;
        for (int pass = 0; pass < 2; ++pass) {
            for (int i = 0; i < 20000; ++i) {
                t.push_back("value-" + std::to_string(i * 7919 % 20000));
            }
        }
        CHECK(t.size() == 40000);
        CHECK(t.distinct() == 20000);
        bool same = true;
        for (size_t i = 0; i < 20000; ++i) {
            same = same && t.code(i) == t.code(i + 20000) && t.code(i) == i &&
                   t[i] == "value-" + std::to_string(i * 7919 % 20000);
        }
        CHECK(same);
    }

    TEST_CASE("Texts: short values alike in their first and last bytes keep their own codes") {
        // The recent-values cache keys a value of up to 16 bytes by two words that overlap
        // and its size; values that share those words at other sizes, or differ only in the
        // middle, must not share a code. Each set is pushed in turn many times, so that the
        // cache is filled by one value and asked for another.
        const std::vector<std::string> values = {"",
                                                 "a",
                                                 "aa",
                                                 "aaa",
                                                 "aba",
                                                 "aab",
                                                 "abcd",
                                                 "abcde",
                                                 "abXde",
                                                 "abcdefg",
                                                 "abcXefg",
                                                 "abcdefgh",
                                                 "abcdefghi",
                                                 "abcdXfghi",
                                                 "abcdefghijklmnop",
                                                 "abcdefgXijklmnop",
                                                 "abcdefghijklmnopq",
                                                 "abcdefghijklmnoXq",
                                                 std::string("ab\0cd", 5),
                                                 std::string("ab\0d", 4),
                                                 std::string("ab\0\0", 4)};
        Texts t;
        for (int pass = 0; pass < 50; ++pass) {
            for (const auto& v : values) {
                t.push_back(v);
            }
        }
        CHECK(t.distinct() == values.size());
        bool same = true;
        for (size_t i = 0; i < t.size(); ++i) {
            same = same && t[i] == values[i % values.size()] && t.code(i) == i % values.size();
        }
        CHECK(same);
    }

    TEST_CASE("CSV and JSON lines append; a column some files lack is missing in their rows") {
        Dir d;
        d.write("a.csv", "x,plan\n1,basic\n,pro\n");
        d.write("b.jsonl", "{\"x\": 2.5, \"score\": 0.9}\n{\"x\": null, \"plan\": \"pro\"}\n");
        const auto files = expand_paths({"*.csv", "b.jsonl"}, d.path);
        REQUIRE(files.size() == 2);
        CHECK(files[0].display == "a.csv");
        const Frame f = load_frame(files);
        CHECK(f.rows == 4);
        const Column* x = f.column("x");
        REQUIRE(x != nullptr);
        CHECK(x->numeric);
        CHECK_FALSE(x->has_text);
        REQUIRE(x->values.size() == 4);
        CHECK(x->values[0] == 1);
        CHECK(std::isnan(x->values[1]));
        CHECK(x->values[2] == 2.5);
        CHECK(std::isnan(x->values[3]));
        CHECK(x->missing == std::vector<uint8_t>{0, 1, 0, 1});
        CHECK(x->number(2) == 2.5);
        CHECK_FALSE(x->number(3).has_value());
        const Column* score = f.column("score");
        REQUIRE(score != nullptr);
        CHECK(score->missing == std::vector<uint8_t>{1, 1, 0, 1});
        CHECK(score->values[2] == 0.9);
        const Column* plan = f.column("plan");
        REQUIRE(plan != nullptr);
        CHECK_FALSE(plan->numeric);
        CHECK(texts(*plan) == std::vector<std::string>{"basic", "pro", "", "pro"});
        CHECK(plan->missing == std::vector<uint8_t>{0, 0, 1, 0});
    }

    TEST_CASE("a column numeric until a later row is read again as text, as written") {
        Dir d;
        d.write("a.csv", "x,y,z\n1.50,1,7\n2,2,8\nnan,3,9\n");
        d.write("b.csv", "x,y\n-inf,4\nN/A,\n");
        const Frame f = load_frame(expand_paths({"a.csv", "b.csv"}, d.path));
        CHECK(f.rows == 5);
        const Column* x = f.column("x");
        REQUIRE(x != nullptr);
        CHECK_FALSE(x->numeric);
        CHECK(texts(*x) == std::vector<std::string>{"1.50", "2", "nan", "-inf", "N/A"});
        CHECK(x->number(0) == 1.5);
        CHECK(std::isnan(*x->number(2)));
        CHECK(std::isinf(*x->number(3)));
        CHECK_FALSE(x->number(4).has_value());
        const Column* y = f.column("y");
        REQUIRE(y != nullptr);
        CHECK(y->numeric);
        CHECK(y->values.size() == 5);
        CHECK(y->missing == std::vector<uint8_t>{0, 0, 0, 0, 1});
        const Column* z = f.column("z");
        REQUIRE(z != nullptr);
        CHECK(z->missing == std::vector<uint8_t>{0, 0, 0, 1, 1});
        CHECK(std::isnan(z->values[4]));

        // Asked for: text beside the numbers (with_text), or text only (as_text).
        const Frame g = load_frame(expand_paths({"a.csv"}, d.path), {"y"}, {"z"});
        const Column* gy = g.column("y");
        const Column* gz = g.column("z");
        REQUIRE(gy != nullptr);
        REQUIRE(gz != nullptr);
        CHECK(gy->numeric);
        CHECK(gy->has_text);
        CHECK(texts(*gy) == std::vector<std::string>{"1", "2", "3"});
        CHECK(gy->values[2] == 3);
        CHECK_FALSE(gz->numeric);
        CHECK(texts(*gz) == std::vector<std::string>{"7", "8", "9"});
    }

    TEST_CASE("a key repeated in a JSON line: the last wins; in a CSV header: an error") {
        Dir d;
        d.write("r.jsonl", "{\"a\": 1, \"a\": 2, \"b\": \"x\"}\n{\"a\": 3, \"a\": null}\n");
        const Frame f = load_frame(expand_paths({"r.jsonl"}, d.path));
        const Column* a = f.column("a");
        REQUIRE(a != nullptr);
        REQUIRE(a->values.size() == 2);
        CHECK(a->values[0] == 2);
        CHECK(a->missing == std::vector<uint8_t>{0, 1});
        CHECK(texts(*f.column("b")) == std::vector<std::string>{"x", ""});
        d.write("r.csv", "a,a\n1,2\n");
        try {
            load_frame(expand_paths({"r.csv"}, d.path));
            FAIL("no error");
        } catch (const mloop::data::DataError& e) {
            CHECK(std::string(e.what()).find("r.csv:1: column 'a' appears twice") !=
                  std::string::npos);
        }
    }

    TEST_CASE("gzip'd files, the filter, and errors that name the file") {
        Dir d;
        {
            gzFile g = gzopen((d.path / "c.jsonl.gz").c_str(), "wb");
            const std::string text = "{\"x\": 1}\n{\"x\": 2}\n{\"x\": 3}\n";
            gzwrite(g, text.data(), static_cast<unsigned>(text.size()));
            gzclose(g);
        }
        Frame f = load_frame(expand_paths({"c.jsonl.gz"}, d.path));
        CHECK(f.rows == 3);
        f.filter({1, 0, 1});
        CHECK(f.rows == 2);
        CHECK(f.column("x")->values == Doubles{1, 3});

        d.write("bad.jsonl", "{\"x\": 1}\n[1]\n");
        try {
            load_frame(expand_paths({"bad.jsonl"}, d.path));
            FAIL("no error");
        } catch (const mloop::data::DataError& e) {
            CHECK(std::string(e.what()).find("bad.jsonl:2") != std::string::npos);
        }
        d.write("data.txt", "x\n");
        CHECK_THROWS_AS(load_frame(expand_paths({"data.txt"}, d.path)), mloop::error::UsageError);
        CHECK_THROWS_AS(expand_paths({"none-*.csv"}, d.path), mloop::error::UsageError);
    }
}

namespace {

// Every cell of two frames alike: names, kinds, missing cells, numbers (NaN where NaN) and text.
void check_same(const Frame& a, const Frame& b) {
    REQUIRE(a.rows == b.rows);
    REQUIRE(a.columns.size() == b.columns.size());
    CHECK(a.files == b.files);
    for (size_t i = 0; i < a.columns.size(); ++i) {
        const Column& x = a.columns[i];
        const Column& y = b.columns[i];
        INFO("column " << x.name);
        CHECK(x.name == y.name);
        CHECK(x.numeric == y.numeric);
        CHECK(x.has_text == y.has_text);
        CHECK(x.missing == y.missing);
        REQUIRE(x.values.size() == y.values.size());
        for (size_t r = 0; r < x.values.size(); ++r) {
            if (!(std::isnan(x.values[r]) && std::isnan(y.values[r]))) {
                REQUIRE(x.values[r] == y.values[r]);
            }
        }
        CHECK(texts(x) == texts(y));
    }
}

// Reads one request both ways: whole, and cut into `pieces` before reading.
std::pair<Frame, Frame> whole_and_cut(const std::vector<DataFile>& files, uint64_t pieces,
                                      const std::set<std::string>& with_text = {},
                                      std::atomic<uint64_t>* reread = nullptr) {
    SplitOptions whole;
    whole.min_share = uint64_t{1} << 40;
    SplitOptions cut = whole;
    cut.pieces = pieces;
    cut.reread = reread;
    Frame a = std::move(load_frames({{files, with_text, {}}}, whole).front());
    Frame b = std::move(load_frames({{files, with_text, {}}}, cut).front());
    return {std::move(a), std::move(b)};
}

}  // namespace

TEST_SUITE("monitor") {
    TEST_CASE("a file read in pieces is the file read whole: quotes, CRLF, blank lines, text") {
        Dir d;
        std::string csv = "id,x,plan,note\r\n";
        for (int i = 0; i < 3000; ++i) {
            csv += std::to_string(i) + "," + (i % 7 == 0 ? "" : std::to_string(i * 0.25)) + "," +
                   (i % 3 == 0 ? "basic" : "\"pro, plus\"") + "," +
                   (i % 11 == 0 ? "\"two\nlines, \"\"quoted\"\"\"" : "plain") + "\r\n";
            if (i % 500 == 0) {
                csv += "\r\n";
            }
        }
        d.write("a.csv", csv);
        const auto files = expand_paths({"a.csv"}, d.path);
        for (const uint64_t pieces : {2, 3, 7, 50}) {
            INFO(pieces << " pieces");
            const auto [whole, cut] = whole_and_cut(files, pieces, {"id"});
            CHECK(whole.rows == 3000);
            check_same(whole, cut);
        }
    }

    TEST_CASE("a cut inside a quoted field is found out, and the file read whole") {
        Dir d;
        // One long quoted field of newlines and commas: most cuts fall inside it, where the
        // first newline after the cut looks like a row's end.
        std::string csv = "a,b\n1,x\n2,\"";
        for (int i = 0; i < 2000; ++i) {
            csv += "3,y\n";
        }
        csv += "\"\n4,z\n";
        d.write("q.csv", csv);
        const auto files = expand_paths({"q.csv"}, d.path);
        std::atomic<uint64_t> reread{0};
        const auto [whole, cut] = whole_and_cut(files, 5, {}, &reread);
        CHECK(whole.rows == 3);
        check_same(whole, cut);
        CHECK(texts(*cut.column("b"))[2] == "z");
        CHECK(reread == 1);  // the cuts of the test option suppose they are outside quotes
    }

    TEST_CASE("JSON lines in pieces: keys met late, a column text from a later piece on") {
        Dir d;
        std::string jsonl;
        for (int i = 0; i < 2000; ++i) {
            jsonl += "{\"n\": " + std::to_string(i) + ", \"v\": " +
                     (i < 1500 ? std::to_string(i % 10) : "\"k" + std::to_string(i % 3) + "\"") +
                     (i > 1800 ? ", \"late\": 1.5" : "") + "}\n";
        }
        d.write("a.jsonl", jsonl);
        const auto files = expand_paths({"a.jsonl"}, d.path);
        const auto [whole, cut] = whole_and_cut(files, 4);
        check_same(whole, cut);
        const Column* v = cut.column("v");
        REQUIRE(v != nullptr);
        CHECK_FALSE(v->numeric);  // read again as text: the numbers of the first pieces as written
        CHECK(texts(*v)[3] == "3");
        CHECK(texts(*v)[1999] == "k1");
        const Column* late = cut.column("late");
        REQUIRE(late != nullptr);
        CHECK(late->missing[1800] == 1);
        CHECK(late->values[1801] == 1.5);
    }

    TEST_CASE("bad data in a later piece: the error names the row of the whole file") {
        Dir d;
        std::string csv = "a,b\n";
        for (int i = 0; i < 3000; ++i) {
            csv += i == 2500 ? "1,2,3\n" : "1,2\n";
        }
        d.write("r.csv", csv);
        SplitOptions cut;
        cut.pieces = 4;
        try {
            load_frames({{expand_paths({"r.csv"}, d.path), {}, {}}}, cut);
            FAIL("no error");
        } catch (const mloop::data::DataError& e) {
            CHECK(std::string(e.what()).find("r.csv:2502") != std::string::npos);
        }
    }

    TEST_CASE("a thread with nothing left takes over the rest of a file being read") {
        Dir d;
        std::string big = "x,c\n";
        for (int i = 0; i < 200000; ++i) {
            big += std::to_string(i % 977) + "." + std::to_string(i % 13) + ",c" +
                   std::to_string(i % 5) + "\n";
        }
        d.write("big.csv", big);
        d.write("small.csv", "x,c\n1,c1\n");
        const auto big_files = expand_paths({"big.csv"}, d.path);
        const auto small_files = expand_paths({"small.csv"}, d.path);
        SplitOptions whole;
        whole.min_share = uint64_t{1} << 40;
        const Frame expect = std::move(load_frames({{big_files, {}, {}}}, whole).front());
        std::atomic<uint64_t> taken{0};
        SplitOptions share;
        share.min_share = 4096;
        share.taken = &taken;
        for (int run = 0; run < 3; ++run) {
            auto frames = load_frames({{small_files, {}, {}}, {big_files, {}, {}}}, share);
            CHECK(frames[0].rows == 1);
            check_same(expect, frames[1]);
        }
        if (mloop::util::default_threads() > 1) {
            CHECK(taken > 0);  // the thread done with small.csv took over part of big.csv
        }
    }

    TEST_CASE("a piece taken over starts on a row's end, not on a newline in quoted text") {
        Dir d;
        // Most bytes inside quoted fields that hold newlines: a cut supposed outside quotes
        // would nearly always start on a newline inside one.
        std::string big = "n,note\n";
        for (int i = 0; i < 20000; ++i) {
            big += std::to_string(i) + ",\"";
            for (int k = 0; k < 8; ++k) {
                big += "line " + std::to_string(i % 97) + ", and more\n";
            }
            big += "\"\n";
        }
        d.write("big.csv", big);
        d.write("small.csv", "n,note\n1,x\n");
        const auto big_files = expand_paths({"big.csv"}, d.path);
        SplitOptions whole;
        whole.min_share = uint64_t{1} << 40;
        const Frame expect = std::move(load_frames({{big_files, {}, {}}}, whole).front());
        REQUIRE(expect.rows == 20000);
        std::atomic<uint64_t> taken{0};
        std::atomic<uint64_t> reread{0};
        SplitOptions share;
        share.min_share = 4096;
        share.taken = &taken;
        share.reread = &reread;
        for (int run = 0; run < 3; ++run) {
            auto frames = load_frames(
                {{expand_paths({"small.csv"}, d.path), {}, {}}, {big_files, {}, {}}}, share);
            check_same(expect, frames[1]);
        }
        CHECK(reread == 0);  // no cut fell inside quotes
        if (mloop::util::default_threads() > 1) {
            CHECK(taken > 0);
        }
    }
}
