// The pieces of the client commands (cli/cmd_client.cc: job, queue, node,
// tenant, token) that do not talk to a server: exit codes for HTTP
// statuses, and the text tables and times they print.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rackscale {

// The exit code of a client command whose request got HTTP `status`
// (docs/cli.md#exit-codes): 2xx kExitOk; 400 and 413 kExitBadInput; 401
// and 403 kExitServer; 404 kExitNotFound; 409 kExitConflict; any other
// status (5xx, 410, ...) kExitFailure.
int ExitCodeForStatus(int status);

// An aligned text table: the header, then one line per row, columns
// separated by two spaces, no trailing spaces. A column whose cells (not
// counting the header and empty cells) all are numbers, elapsed times
// (FormatElapsed) or "-" is aligned right, any other left. Widths count UTF-8 code points. Rows shorter than
// the header are padded with empty cells; longer ones are an error of the
// caller (asserted in debug builds).
std::string FormatTable(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

// Slurm's elapsed-time form: "0:00", "4:05", "1:02:03", "2-03:04:05".
// Negative values print as "0:00".
std::string FormatElapsed(int64_t seconds);

// A Unix time as "2025-12-05T16:33:20Z" (UTC); 0 as "-".
std::string FormatUnixTime(int64_t t);

// GPU indices as ranges: [0,1,2,3,6] as "0-3,6".
std::string FormatIndexRanges(const std::vector<int64_t>& v);

// A JSON value as a table cell: strings bare, numbers and booleans as
// written, null or absent as "", arrays and objects as compact JSON.
std::string Cell(const nlohmann::json& v);

}  // namespace rackscale
