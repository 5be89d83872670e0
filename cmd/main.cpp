#include "command.hpp"

int main(int argc, char** argv) {
    return mloop::cli::run_cli(argc, argv);
}
