// Trees for people, drawn as tree(1) and `cargo tree` draw them:
//
//   churn@3 (production)
//   └── run 14  train  succeeded
//       ├── commit 1a2b3c4d5e6f
//       └── dataset train  data/train.csv
#pragma once

#include <string>
#include <vector>

namespace mloop::render {

struct TreeNode {
    std::string text;  // may hold several lines; the later ones are indented under the first
    std::vector<TreeNode> children;
};

// Each line ends in '\n'.
std::string tree_text(const TreeNode& root);

}  // namespace mloop::render
