#include "graph/collective.hpp"

namespace dagrad {
namespace {
Collective* g_world = nullptr;
}  // namespace

Collective* world() { return g_world; }
void set_world(Collective* w) { g_world = w; }

}  // namespace dagrad
