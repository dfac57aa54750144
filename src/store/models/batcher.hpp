#pragma once
// Batching of embed() calls: calls from concurrent requests for the same provider and model are
// sent together, up to max_batch inputs per upstream request (Pixeltable's 32).
//
// How a batch forms: the first call that finds no open batch opens one and leads it. The leader
// sends at once when the model is idle (no batch of it in flight and no other call within the last
// batch_window_ms), so a lone caller pays nothing; otherwise it waits up to batch_window_ms for
// more inputs (less when the batch fills). It then waits for one of the provider's
// max_concurrency slots, and the batch keeps taking inputs until it has one: under load, batches
// grow to what the provider's concurrency leaves room for, which is what lifts throughput past
// one request per input. Identical texts in one batch are sent once.
//
// Thread-safety: embed() may be called from any number of threads; each caller blocks until its
// batch is answered.
#include <string>
#include <string_view>

#include "store/models/client.hpp"

namespace pxt::models {

// The embedding of `text` as packed float32 (store/model/vector.hpp), batched with concurrent
// calls for the same model. Errors: model_error() kinds (shared by every input of a failed batch),
// PROVIDER_ERROR for an answer that is not a list of embeddings of one dimension.
Result<std::string> embed_batched(Provider& provider, const std::string& model, const std::string& text);

// Embeds many texts at once (a bulk insert, building an index): batches of max_batch inputs, up to
// max_concurrency of them in flight. One outcome per text, in order; a failed batch fails its texts.
std::vector<Result<std::string>> embed_texts(Provider& provider, const std::string& model,
                                             const std::vector<std::string>& texts);

// Inputs waiting or in flight in batches (tests wait on it instead of sleeping).
int embed_calls_waiting();

}  // namespace pxt::models
