#include "cli/app.hpp"
int main(int argc, char** argv) { return pxt::app_main(argc, argv); }
