// Linear algebra: products, triangular parts and diagonals, decompositions,
// solvers and norms. Families are tables: one row per op.
#include "tcltorch/commands.h"
#include "tcltorch/tensor_util.h"
#include <utility>

namespace tcltorch {

using at::Tensor;

// ---- products of two tensors: input other ----

namespace {
struct ProductOp {
  const char* name;
  const char* doc;
  Tensor (*fn)(const Tensor&, const Tensor&);
};
}  // namespace
static const ProductOp kProduct[] = {
    {"dot", "Inner product of two 1-D tensors (0-d result).", [](const Tensor& a, const Tensor& b) { return at::dot(a, b); }},
    {"outer", "Outer product of two 1-D tensors: out[i][j] = input[i] * other[j].",
     [](const Tensor& a, const Tensor& b) { return at::outer(a, b); }},
    {"kron", "Kronecker product.", [](const Tensor& a, const Tensor& b) { return at::kron(a, b); }},
};

namespace {
struct ProductArgs : Args {
  Arg<Type::Tensor> input{this, {"input", Type::Tensor, nullptr, "tensor handle", "tensor tensor1 input1 vec1"}};
  Arg<Type::Tensor> other{this, {"other", Type::Tensor, nullptr, "tensor handle", "tensor2 input2 vec2"}};
};
}  // namespace

static Tcl_Obj* cmdProduct(Call& c, const ProductArgs& a) {
  return c.result(c.data<ProductOp>().fn(c.tensorRef(a.input), c.tensorRef(a.other)));
}

// ---- one matrix and one integer: input ?k? ----

namespace {
struct DiagonalOp {
  const char* name;
  const char* doc;
  const char* param;  // the integer's name
  const char* def;
  const char* aliases;
  Tensor (*fn)(const Tensor&, int64_t);
};
}  // namespace
static const DiagonalOp kDiagonal[] = {
    {"tril", "Lower triangle: elements on and below the diagonal-th diagonal, zeros above.", "diagonal", "0", "k",
     [](const Tensor& t, int64_t k) { return at::tril(t, k); }},
    {"triu", "Upper triangle: elements on and above the diagonal-th diagonal, zeros below.", "diagonal", "0", "k",
     [](const Tensor& t, int64_t k) { return at::triu(t, k); }},
    {"diag", "1-D input: a matrix with it on the diagonal-th diagonal; 2-D input: that diagonal.", "diagonal", "0",
     "k offset", [](const Tensor& t, int64_t k) { return at::diag(t, k); }},
    {"diagflat", "A matrix with the flattened input on the offset-th diagonal.", "offset", "0", "diagonal k",
     [](const Tensor& t, int64_t k) { return at::diagflat(t, k); }},
    {"matrix_power", "Square matrix to the integer power n (negative n: of the inverse).", "n", nullptr, "power",
     [](const Tensor& t, int64_t n) { return at::linalg_matrix_power(t, n); }},
};

namespace {
struct DiagonalArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Int> k;  // named op.param
  explicit DiagonalArgs(const DiagonalOp& op)
      : k{this, {op.param, Type::Int, op.def, "diagonal offset or power", op.aliases}} {}
};
}  // namespace

static Tcl_Obj* cmdDiagonal(Call& c, const DiagonalArgs& a) {
  return c.result(c.data<DiagonalOp>().fn(c.tensorRef(a.input), c.integer(a.k)));
}

// ---- one matrix: input ----

namespace {
struct MatrixOp {
  const char* name;
  const char* doc;
  Tensor (*fn)(const Tensor&);
};
}  // namespace
static const MatrixOp kMatrix[] = {
    {"trace", "Sum of the main diagonal of a matrix (0-d).", [](const Tensor& t) { return at::trace(t); }},
    {"tensor_matrix_exp", "Matrix exponential of a square matrix (or a batch).",
     [](const Tensor& t) { return at::matrix_exp(t); }},
};

static Tcl_Obj* cmdMatrix(Call& c, const InputArgs& a) {
  return c.result(c.data<MatrixOp>().fn(c.tensorRef(a.input)));
}

// ---- decompositions: a dict of named handles, PyTorch's field names ----

static Tcl_Obj* dictOf(Call& c, std::initializer_list<std::pair<const char*, Tensor>> parts) {
  Tcl_Obj* d = Tcl_NewListObj(0, nullptr);
  for (auto& p : parts) {
    Tcl_ListObjAppendElement(nullptr, d, Tcl_NewStringObj(p.first, -1));
    Tcl_ListObjAppendElement(nullptr, d, c.result(p.second));
  }
  return d;
}

namespace {
struct EigenArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Choice> uplo{this, {"uplo", Type::Choice, "L", "triangle to use", nullptr, "L U"}};
};
}  // namespace
static Tcl_Obj* cmdEigen(Call& c, const EigenArgs& a) {
  static const char* const kUplo[] = {"L", "U"};  // the order of the choices
  auto r = at::linalg_eigh(c.tensorRef(a.input), kUplo[c.choice(a.uplo)]);
  return dictOf(c, {{"eigenvalues", std::get<0>(r)}, {"eigenvectors", std::get<1>(r)}});
}

namespace {
struct SvdArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Bool> full_matrices{this, {"full_matrices", Type::Bool, "0", "1: square U and V"}};
};
}  // namespace
static Tcl_Obj* cmdSvd(Call& c, const SvdArgs& a) {
  auto r = at::linalg_svd(c.tensorRef(a.input), c.boolean(a.full_matrices));
  // V (not V^H): the other API's key; A = U diag(S) V^T.
  return dictOf(c, {{"U", std::get<0>(r)}, {"S", std::get<1>(r)}, {"V", std::get<2>(r).mH()}});
}

namespace {
struct QrArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Choice> mode{this, {"mode", Type::Choice, "reduced", "reduced, complete or r", nullptr, "reduced complete r"}};
};
}  // namespace
static Tcl_Obj* cmdQr(Call& c, const QrArgs& a) {
  static const char* const kModes[] = {"reduced", "complete", "r"};  // the order of the choices
  auto r = at::linalg_qr(c.tensorRef(a.input), kModes[c.choice(a.mode)]);
  return dictOf(c, {{"Q", std::get<0>(r)}, {"R", std::get<1>(r)}});
}

namespace {
struct CholeskyArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Bool> upper{this, {"upper", Type::Bool, "0", "1: the upper factor U with A = U^T U"}};
};
}  // namespace
static Tcl_Obj* cmdCholesky(Call& c, const CholeskyArgs& a) {
  return c.result(at::linalg_cholesky(c.tensorRef(a.input), c.boolean(a.upper)));
}

namespace {
const Param kHermitian{"hermitian", Type::Bool, "0", "1: input is symmetric"};
struct PinvArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Double> rcond{this, {"rcond", Type::Double, "1e-15", "relative cutoff of small singular values"}};
  Arg<Type::Bool> hermitian{this, kHermitian};
};
}  // namespace
static Tcl_Obj* cmdPinv(Call& c, const PinvArgs& a) {
  return c.result(at::linalg_pinv(c.tensorRef(a.input), c.number(a.rcond), c.boolean(a.hermitian)));
}

// ---- solvers ----

namespace {
const Param kRhs{"B", Type::Tensor, nullptr, "right-hand side", "b"};
struct SolveTriangularArgs : Args {
  Arg<Type::Tensor> B{this, kRhs};
  Arg<Type::Tensor> A{this, {"A", Type::Tensor, nullptr, "triangular matrix", "a"}};
  Arg<Type::Bool> upper{this, {"upper", Type::Bool, "1", "1: A is upper triangular"}};
  Arg<Type::Bool> left{this, {"left", Type::Bool, "1", "1: solve A X = B"}};
  Arg<Type::Bool> unitriangular{this, {"unitriangular", Type::Bool, "0", "1: assume ones on A's diagonal"}};
};
}  // namespace
static Tcl_Obj* cmdSolveTriangular(Call& c, const SolveTriangularArgs& a) {
  return c.result(at::linalg_solve_triangular(c.tensorRef(a.A), c.tensorRef(a.B), c.boolean(a.upper), c.boolean(a.left),
                                              c.boolean(a.unitriangular)));
}

namespace {
struct CholeskySolveArgs : Args {
  Arg<Type::Tensor> B{this, kRhs};
  Arg<Type::Tensor> L{this, {"L", Type::Tensor, nullptr, "Cholesky factor", "l"}};
  Arg<Type::Bool> upper{this, {"upper", Type::Bool, "0", "1: L is the upper factor"}};
};
}  // namespace
static Tcl_Obj* cmdCholeskySolve(Call& c, const CholeskySolveArgs& a) {
  return c.result(at::cholesky_solve(c.tensorRef(a.B), c.tensorRef(a.L), c.boolean(a.upper)));
}

namespace {
struct LuSolveArgs : Args {
  Arg<Type::Tensor> B{this, kRhs};
  Arg<Type::Tensor> LU_data{this, {"LU_data", Type::Tensor, nullptr, "packed LU factors", "luData"}};
  Arg<Type::Tensor> LU_pivots{this, {"LU_pivots", Type::Tensor, nullptr, "pivots (int32, from 1)", "luPivots"}};
};
}  // namespace
static Tcl_Obj* cmdLuSolve(Call& c, const LuSolveArgs& a) {
  return c.result(at::linalg_lu_solve(c.tensorRef(a.LU_data), c.tensorRef(a.LU_pivots), c.tensorRef(a.B)));
}

namespace {
struct LstsqArgs : Args {
  Arg<Type::Tensor> B{this, kRhs};
  Arg<Type::Tensor> A{this, {"A", Type::Tensor, nullptr, "coefficient matrix", "a"}};
  Arg<Type::Double> rcond{this, {"rcond", Type::Double, kOptional, "relative cutoff of small singular values"}};
};
}  // namespace
static Tcl_Obj* cmdLstsq(Call& c, const LstsqArgs& a) {
  c10::optional<double> rcond;
  if (c.has(a.rcond)) rcond = c.number(a.rcond);
  return c.result(std::get<0>(at::linalg_lstsq(c.tensorRef(a.A), c.tensorRef(a.B), rcond, c10::nullopt)));
}

// ---- norms, rank, condition number ----

// ord: a number (inf and -inf included), or fro or nuc.
static bool namedOrd(Call& c, const Arg<Type::NumberOrChoice>& ord, std::string* s, double* x) {
  if (!c.isNumber(ord)) {
    *s = c.str(ord);
    return true;
  }
  *x = c.scalar(ord).toDouble();  // a number word is held as a double Scalar
  return false;
}

namespace {
const Param kKeepdim{"keepdim", Type::Bool, "0", "1 keeps reduced dimensions with size 1"};
struct MatrixNormArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::NumberOrChoice> ord{this, {"ord", Type::NumberOrChoice, "fro", "fro, nuc or a number", nullptr, "fro nuc"}};
  Arg<Type::IntList> dim{this, {"dim", Type::IntList, kOptional, "two dimensions (default: the last two)"}};
  Arg<Type::Bool> keepdim{this, kKeepdim};
};
}  // namespace
static Tcl_Obj* cmdMatrixNorm(Call& c, const MatrixNormArgs& a) {
  std::vector<int64_t> dim = c.has(a.dim) ? c.ints(a.dim) : std::vector<int64_t>{-2, -1};
  std::string s;
  double x;
  if (namedOrd(c, a.ord, &s, &x)) return c.result(at::linalg_matrix_norm(c.tensorRef(a.input), s, dim, c.boolean(a.keepdim)));
  return c.result(at::linalg_matrix_norm(c.tensorRef(a.input), x, dim, c.boolean(a.keepdim)));
}

namespace {
struct VectorNormArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Double> ord{this, {"ord", Type::Double, "2", "order (inf, -inf, 0 allowed)"}};
  Arg<Type::IntList> dim{this, {"dim", Type::IntList, kOptional, "dimension(s) (default: all)"}};
  Arg<Type::Bool> keepdim{this, kKeepdim};
};
}  // namespace
static Tcl_Obj* cmdVectorNorm(Call& c, const VectorNormArgs& a) {
  c10::optional<at::IntArrayRef> dim;
  std::vector<int64_t> d;
  if (c.has(a.dim)) dim = d = c.ints(a.dim);
  return c.result(at::linalg_vector_norm(c.tensorRef(a.input), c.number(a.ord), dim, c.boolean(a.keepdim)));
}

namespace {
struct MatrixRankArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::Double> tol{this, {"tol", Type::Double, kOptional, "absolute tolerance (default: from the dtype's eps)"}};
  Arg<Type::Bool> hermitian{this, kHermitian};
};
}  // namespace
static Tcl_Obj* cmdMatrixRank(Call& c, const MatrixRankArgs& a) {
  const Tensor& t = c.tensorRef(a.input);
  if (c.has(a.tol)) return c.result(at::linalg_matrix_rank(t, c.number(a.tol), c.boolean(a.hermitian)));
  return c.result(at::linalg_matrix_rank(t, c10::optional<double>(), c10::optional<double>(), c.boolean(a.hermitian)));
}

namespace {
struct CondArgs : Args {
  Arg<Type::Tensor> input{this, kInput};
  Arg<Type::NumberOrChoice> p{this, {"p", Type::NumberOrChoice, kOptional, "norm order: a number, fro or nuc", nullptr, "fro nuc"}};
};
}  // namespace
static Tcl_Obj* cmdCond(Call& c, const CondArgs& a) {
  if (!c.has(a.p)) return c.result(at::linalg_cond(c.tensorRef(a.input)));
  std::string s;
  double x;
  if (namedOrd(c, a.p, &s, &x)) return c.result(at::linalg_cond(c.tensorRef(a.input), s));
  return c.result(at::linalg_cond(c.tensorRef(a.input), x));
}

// ---- many tensors ----

namespace {
struct CrossArgs : Args {
  Arg<Type::Tensor> input{this, {"input", Type::Tensor, nullptr, "tensor handle", "tensor tensor1 input1"}};
  Arg<Type::Tensor> other{this, kOtherParam};
  Arg<Type::Int> dim{this, {"dim", Type::Int, "-1", "dimension of size 3", "dimension"}};
};
}  // namespace
static Tcl_Obj* cmdCross(Call& c, const CrossArgs& a) {
  return c.result(at::linalg_cross(c.tensorRef(a.input), c.tensorRef(a.other), c.integer(a.dim)));
}

namespace {
struct TensordotArgs : Args {
  Arg<Type::Tensor> a{this, {"a", Type::Tensor, nullptr, "first tensor", "input"}};
  Arg<Type::Tensor> b{this, {"b", Type::Tensor, nullptr, "second tensor", "other"}};
  Arg<Type::IntLists> dims{
      this,
      {"dims", Type::IntLists, "2", "N (the last N dims of a with the first N of b), {{dims of a} {dims of b}}, or one list for both"}};
};
}  // namespace
// dims: N (the last N of a with the first N of b), {{dims of a} {dims of b}},
// or one flat list used for both (the other API's form).
static Tcl_Obj* cmdTensordot(Call& c, const TensordotArgs& args) {
  const Tensor &a = c.tensorRef(args.a), &b = c.tensorRef(args.b);
  const auto& l = c.intLists(args.dims);
  if (l.size() == 1 && l[0].size() == 1) {  // N
    int64_t k = l[0][0];
    std::vector<int64_t> da, db;
    for (int64_t i = 0; i < k; ++i) {
      da.push_back(a.dim() - k + i);
      db.push_back(i);
    }
    return c.result(at::tensordot(a, b, da, db));
  }
  if (l.size() == 2 && (l[0].size() > 1 || l[1].size() > 1)) return c.result(at::tensordot(a, b, l[0], l[1]));
  std::vector<int64_t> same;
  for (auto& x : l) same.insert(same.end(), x.begin(), x.end());
  return c.result(at::tensordot(a, b, same, same));
}

namespace {
const Param kTensors{"tensors", Type::TensorList, nullptr, "list of tensor handles", "inputs"};
struct EinsumArgs : Args {
  Arg<Type::String> equation{this, {"equation", Type::String, nullptr, "subscripts, e.g. ij,jk->ik"}};
  Arg<Type::TensorList> tensors{this, kTensors};
};
struct BlockDiagArgs : Args {
  Arg<Type::TensorList> tensors{this, kTensors};
};
}  // namespace
static Tcl_Obj* cmdEinsum(Call& c, const EinsumArgs& a) { return c.result(at::einsum(c.str(a.equation), c.tensors(a.tensors))); }

static Tcl_Obj* cmdBlockDiag(Call& c, const BlockDiagArgs& a) { return c.result(at::block_diag(c.tensors(a.tensors))); }

// Families are rows: one handler per family, each row carrying its member.
static void addProducts(std::vector<Command>& out) {
  auto args = std::make_shared<const ProductArgs>();
  for (const ProductOp& op : kProduct) out.push_back(typedRow<cmdProduct>(op.name, op.doc, args).withData(&op));
}
static void addDiagonals(std::vector<Command>& out) {
  for (const DiagonalOp& op : kDiagonal)
    out.push_back(typedRow<cmdDiagonal>(op.name, op.doc, std::make_shared<const DiagonalArgs>(op)).withData(&op));
}
static void addMatrices(std::vector<Command>& out) {
  auto args = std::make_shared<const InputArgs>();
  for (const MatrixOp& op : kMatrix) out.push_back(typedRow<cmdMatrix>(op.name, op.doc, args).withData(&op));
}

std::vector<Command> tensorLinalgCommands() {
  std::vector<Command> out = {
      typedRow<cmdCross>("cross", "Cross product of 3-vectors along dim."),
      typedRow<cmdTensordot>("tensordot",
                             "Sum of products over the dims of a and b (dims: N, {{dims of a} {dims of b}}, or one list for both)."),
      typedRow<cmdEinsum>("einsum", "Einstein summation: einsum \"ij,jk->ik\" {a b}."),
      typedRow<cmdBlockDiag>("block_diag", "Block-diagonal matrix of the given tensors (0-, 1- or 2-D)."),
      typedRow<cmdEigen>("tensor_eigen", "Eigen-decomposition of a symmetric matrix: dict {eigenvalues h eigenvectors h} (ascending)."),
      typedRow<cmdSvd>("tensor_svd", "Singular value decomposition A = U diag(S) V^T: dict {U h S h V h}."),
      typedRow<cmdQr>("tensor_qr", "QR decomposition: dict {Q h R h}."),
      typedRow<cmdCholesky>("tensor_cholesky", "Cholesky factor of a symmetric positive-definite matrix (lower, or upper)."),
      typedRow<cmdPinv>("tensor_pinv", "Moore-Penrose pseudo-inverse."),
      typedRow<cmdSolveTriangular>("solve_triangular", "Solve A X = B (or X A = B with left 0) for triangular A."),
      typedRow<cmdCholeskySolve>("cholesky_solve", "Solve A X = B given A's Cholesky factor L."),
      typedRow<cmdLuSolve>("lu_solve", "Solve A X = B given A's LU factorisation (LU_data, LU_pivots from torch.linalg.lu_factor)."),
      typedRow<cmdLstsq>("lstsq", "Least-squares solution X of A X = B."),
      typedRow<cmdMatrixNorm>("matrix_norm", "Matrix norm over two dims (ord: fro, nuc, or a number such as 1, 2, -2, inf)."),
      typedRow<cmdVectorNorm>("vector_norm", "Vector norm of all elements, or over dim."),
      typedRow<cmdMatrixRank>("matrix_rank", "Numerical rank (singular values above tol)."),
      typedRow<cmdCond>("cond", "Condition number (p: 2 by default, or fro, nuc, a number)."),
  };
  addProducts(out);
  addDiagonals(out);
  addMatrices(out);
  return out;
}

}  // namespace tcltorch
