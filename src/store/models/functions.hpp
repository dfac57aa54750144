#pragma once
// The model functions (registered by store/functions/registry.cpp, so every store connection has
// them), all computed ahead of a write's transaction (never inside the writer lock):
//   chat(prompt, 'provider/model'[, options])            -> String: one user message, the first
//        choice's content; options (a Json object) are merged into the request, `system` becoming
//        a system message;
//   chat_completion(messages, 'provider/model'[, options]) -> Json: the provider's whole answer;
//   embed(text_or_image, 'provider/model')                -> Vector, batched across concurrent
//        calls (store/models/batcher.hpp); an Image is sent as a data: URL;
//   ocr(image[, 'lang'])                                   -> String, Tesseract on this machine.
// A NULL input gives NULL without a call. Errors name the function and the bad argument; failed
// calls carry the provider error codes (store/models/errors.hpp).
// Thread-safety: the functions may run on many threads at once.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "store/functions/registry.hpp"
#include "store/models/client.hpp"

namespace pxt::models {

std::vector<SqlFunction> model_functions();
std::vector<SqlFunction> ocr_functions();

// embed()'s implementation (also used to embed a similarity query's parameter).
Result<Value> embed_value(const FunctionContext& ctx, const std::vector<Value>& args);

// When `value` names an image file of this home's media folder (a name pxt gave it, with an
// image extension), the image as a data: URL (or the error reading it); nullopt for any other text.
std::optional<Result<std::string>> image_input(const std::filesystem::path& media_dir,
                                               const std::string& value);
// Embeds one image (a data: URL) the way OpenAI-compatible servers of multimodal embedding models
// take it (vLLM): {"model", "messages": [{"role": "user", "content": [{"type": "image_url",
// "image_url": {"url": ...}}]}], "encoding_format": "float"}. Not batched.
Result<Value> embed_image(Provider& provider, const ModelRef& ref, const std::string& data_url);

}  // namespace pxt::models
