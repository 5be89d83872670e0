#include "render/tree.hpp"

namespace mloop::render {

namespace {

void draw(const TreeNode& node, const std::string& first, const std::string& rest,
          std::string& out) {
    size_t at = 0;
    bool first_line = true;
    do {
        const size_t nl = node.text.find('\n', at);
        const std::string line =
            node.text.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
        // Continuation lines stand under the text, with the rule down to the children.
        out += first_line ? first : rest + (node.children.empty() ? "    " : "│   ");
        out += line;
        out += '\n';
        first_line = false;
        at = nl == std::string::npos ? node.text.size() + 1 : nl + 1;
    } while (at <= node.text.size());
    for (size_t i = 0; i < node.children.size(); ++i) {
        const bool last = i + 1 == node.children.size();
        draw(node.children[i], rest + (last ? "└── " : "├── "), rest + (last ? "    " : "│   "),
             out);
    }
}

}  // namespace

std::string tree_text(const TreeNode& root) {
    std::string out;
    draw(root, "", "", out);
    return out;
}

}  // namespace mloop::render
