// rackscale: plan, simulate and operate rack-scale AI fleets.
#include "cli/commands.h"

int main(int argc, char** argv) { return rackscale::RunCli(argc, argv); }
