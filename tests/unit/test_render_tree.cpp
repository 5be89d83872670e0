#include <doctest/doctest.h>

#include "render/tree.hpp"

using namespace mloop::render;

TEST_SUITE("render") {
    TEST_CASE("a tree draws its branches as tree(1) does") {
        TreeNode root{"churn@3",
                      {{"run 4",
                        {{"commit 2222", {}},
                         {"params", {{"C = 10", {}}, {"max_iter = 200", {}}}},
                         {"dataset train", {}}}},
                       {"evaluated by run 7", {}}}};
        CHECK(tree_text(root) ==
              "churn@3\n"
              "├── run 4\n"
              "│   ├── commit 2222\n"
              "│   ├── params\n"
              "│   │   ├── C = 10\n"
              "│   │   └── max_iter = 200\n"
              "│   └── dataset train\n"
              "└── evaluated by run 7\n");
    }

    TEST_CASE("a node of several lines keeps them under its first") {
        TreeNode root{"a", {{"b\nb2", {{"c", {}}}}, {"d\nd2", {}}}};
        CHECK(tree_text(root) ==
              "a\n"
              "├── b\n"
              "│   │   b2\n"
              "│   └── c\n"
              "└── d\n"
              "        d2\n");
    }

    TEST_CASE("a lone root is one line") {
        CHECK(tree_text({"commit 1234", {}}) == "commit 1234\n");
    }
}
